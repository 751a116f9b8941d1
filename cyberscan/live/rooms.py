"""Room names, from one place."""


def user(user_id: int) -> str:
    """Every connection of one user joins this room, on every server process."""
    return f"user:{user_id}"


def token(family: str) -> str:
    """Every connection opened with a token of one login session (its refresh token's
    id, which the access tokens minted from it share): closed when it is revoked."""
    return f"token:{family}"


ADMINS = "admins"
