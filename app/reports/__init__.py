"""The monitoring report: a workbook of frequency tables, numeric summaries, rates and charts."""
