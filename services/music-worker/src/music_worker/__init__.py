"""The music media worker of lecturegen."""
