"""Telephone interviewing: the call queue, interviewer and supervisor screens."""
