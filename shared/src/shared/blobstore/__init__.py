"""Blob storage for generated media: content-addressed keys, filesystem and S3 stores, probing."""

from shared.blobstore.describe import BlobNotFoundError, BlobStoreError
from shared.blobstore.factory import S3Access, open_blob_store
from shared.blobstore.filesystem import FilesystemBlobStore
from shared.blobstore.keys import blob_key, content_type_of, is_valid_key, normalize_content_type
from shared.blobstore.probe import media_duration, sniff_content_type
from shared.blobstore.s3 import S3BlobStore
from shared.blobstore.sigv4 import Credentials

__all__ = [
    "BlobNotFoundError",
    "BlobStoreError",
    "Credentials",
    "FilesystemBlobStore",
    "S3Access",
    "S3BlobStore",
    "blob_key",
    "content_type_of",
    "is_valid_key",
    "media_duration",
    "normalize_content_type",
    "open_blob_store",
    "sniff_content_type",
]
