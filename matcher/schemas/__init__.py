"""Marshmallow schemas: one validation path shared by the API and the pages."""
