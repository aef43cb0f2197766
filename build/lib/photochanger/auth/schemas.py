"""Login and account shapes."""

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

USERNAME_PATTERN = r"^[A-Za-z0-9_.@-]{2,64}$"


class LoginRequest(BaseModel):
    """``POST /api/login`` body."""

    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class TokenResponse(BaseModel):
    """A bearer token (JWT HS256); ``expires_in`` in seconds."""

    access_token: str
    token_type: str = "bearer"
    expires_in: int


class AdminView(BaseModel):
    """An admin account without its hash."""

    model_config = ConfigDict(from_attributes=True)

    username: str
    is_active: bool
    created_at: datetime
    last_login_at: datetime | None
