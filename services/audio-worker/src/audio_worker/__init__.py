"""The audio media worker of lecturegen."""
