"""Room names, from one place."""


def user(user_id: int) -> str:
    """Every connection of one user joins this room, on every server process."""
    return f"user:{user_id}"


ADMINS = "admins"
