"""Questionnaires: the model, expressions, loading definitions (YAML and XLSForm), their
checks, and the flow of an interview through them."""
