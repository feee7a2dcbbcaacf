"""Projects the lecturegen event log into PostgreSQL views."""
