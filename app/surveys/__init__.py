"""Surveys: loading definitions as immutable versions, listing and showing them."""
