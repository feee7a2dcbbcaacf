"""`lecturegen demo`: a demo lecture with fault directives, followed live until every asset is
final."""
