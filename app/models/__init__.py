"""The database models, split by aggregate. Importing this module registers them all."""

from app.models.surveys import Survey, SurveyVersion
from app.models.users import Role, User

__all__ = ["Role", "Survey", "SurveyVersion", "User"]
