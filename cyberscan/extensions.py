"""Extension objects, created unbound; `create_app()` binds them."""

from flask_cors import CORS
from flask_jwt_extended import JWTManager
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_migrate import Migrate
from flask_smorest import Api
from flask_socketio import SocketIO
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

from cyberscan.schemas.error import ErrorSchema

# Stable constraint names, so migrations can drop and alter them on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class CyberscanApi(Api):
    """flask-smorest's Api with the contract's error body (`error` code and a message)."""

    ERROR_SCHEMA = ErrorSchema

    def handle_http_exception(self, error):  # noqa: ANN001, ANN201
        from cyberscan.api.errors import http_error_body

        payload, status, headers = super().handle_http_exception(error)
        return http_error_body(error, payload), status, headers


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
jwt = JWTManager()
socketio = SocketIO()
api = CyberscanApi()
cors = CORS()
limiter = Limiter(key_func=get_remote_address)
