"""The domain core: questionnaires, expressions, interview flow, fieldwork rules.

Plain Python with no Flask import, so it can be tested and benchmarked on its own.
"""
