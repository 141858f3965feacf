"""Property-based fuzzing of the app's OpenAPI (every preset) and of the mock's API: `python -m tests.fuzz.run`."""
