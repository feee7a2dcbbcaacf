"""The lecturegen HTTP API: REST and Server-Sent Events."""
