"""GET /health for load balancers and process managers: 200 when the database answers, 503 when it does not.
No login, no session, nothing about the data."""

from flask import Blueprint, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from app.extensions import db

health = Blueprint("health", __name__)


@health.route("/health")
def check():
    try:
        db.session.execute(text("SELECT 1"))
        db.session.rollback()
    except SQLAlchemyError:
        db.session.rollback()
        return jsonify(status="unavailable"), 503
    return jsonify(status="ok")
