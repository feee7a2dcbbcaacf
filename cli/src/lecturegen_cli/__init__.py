"""The lecturegen command: run the pipeline, a demo, status and rebuilds."""
