"""The vocabulary and runtime pieces every lecturegen service shares."""
