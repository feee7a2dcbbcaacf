"""The image media worker of lecturegen."""
