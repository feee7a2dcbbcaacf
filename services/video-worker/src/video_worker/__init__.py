"""The video media worker of lecturegen."""
