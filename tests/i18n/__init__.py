"""Tests of the translations: templates wrapped, catalogues complete, the language picked and remembered."""
