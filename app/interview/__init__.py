"""The interview, shared by the respondent's web form and the interviewer's phone screens.

- ``definitions``: a stored version's questionnaire and flow (parsed once per content);
- ``service``: a response with its flow and state (``Interview``), starting, saving,
  submitting and re-opening it;
- ``pages``: a page turned into view objects for the templates, and a posted page read;
- ``submit``: the one decision taken when a page is posted (next, back, saved, done, ...);
- ``corrections``: staff edits of a response's answers.
"""
