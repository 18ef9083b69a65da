"""Who may use socialads: brands, their users (and failed logins), their API tokens and the
named people who speak for them."""

from __future__ import annotations

import hashlib
import secrets
import time
from typing import Any, cast

import orjson

from socialads.store.base import Domain, JSONObject


def new_id(prefix: str) -> str:
    """A short, unguessable, URL-safe id such as ``c_k3j9x2m4q8``."""
    alphabet = "abcdefghijkmnopqrstuvwxyz23456789"
    return prefix + "_" + "".join(secrets.choice(alphabet) for _ in range(12))


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Accounts(Domain):
    """Brands, users and API tokens."""

    def create_brand(self, name: str) -> str:
        brand_id = new_id("b")
        now = time.time()
        pipe = self.transaction(one_slot=False)  # the brand, then the index
        pipe.hset(self.keys.brand(brand_id), mapping={"name": name, "created_at": now})
        pipe.zadd(self.keys.brands, {brand_id: now})
        pipe.execute()
        return brand_id

    def list_brands(self) -> list[dict[str, Any]]:
        ids = cast("list[str]", self.redis.zrange(self.keys.brands, 0, -1))
        pipe = self.redis.pipeline(transaction=False)
        for brand_id in ids:
            pipe.hgetall(self.keys.brand(brand_id))
        return [
            {"id": brand_id, **data}
            for brand_id, data in zip(ids, pipe.execute(), strict=True)
            if data
        ]

    def get_brand(self, brand_id: str) -> dict[str, Any] | None:
        data = cast("dict[str, str]", self.redis.hgetall(self.keys.brand(brand_id)))
        return {"id": brand_id, **data} if data else None

    def create_user(self, email: str, brand_id: str, password_hash: str, role: str) -> bool:
        """Create a user unless the email is taken; returns whether it was created."""
        key = self.keys.user(email)
        created = self.redis.hsetnx(key, "email", email.lower())
        if created:
            self.redis.hset(
                key,
                mapping={
                    "brand_id": brand_id,
                    "role": role,
                    "password_hash": password_hash,
                    "created_at": time.time(),
                },
            )
            if brand_id:
                self.redis.sadd(self.keys.brand_users(brand_id), email.lower())
        return bool(created)

    def get_user(self, email: str) -> dict[str, Any] | None:
        return cast("dict[str, str]", self.redis.hgetall(self.keys.user(email))) or None

    def update_password(self, email: str, password_hash: str) -> None:
        self.redis.hset(self.keys.user(email), "password_hash", password_hash)

    def brand_users(self, brand_id: str) -> list[dict[str, Any]]:
        emails = sorted(cast("set[str]", self.redis.smembers(self.keys.brand_users(brand_id))))
        return [user for user in map(self.get_user, emails) if user]

    def login_failures(self, email: str, ip: str) -> int:
        """The larger of the account's and the address's failed logins in this window."""
        counts = self.redis.mget(self.keys.login_failures(email), self.keys.login_failures_from(ip))
        return max(int(count or 0) for count in counts)

    def count_login_failure(self, email: str, ip: str, window: int) -> None:
        for key in (self.keys.login_failures(email), self.keys.login_failures_from(ip)):
            if self.redis.incr(key) == 1:  # the window starts at the first failure
                self.redis.expire(key, window)

    def clear_login_failures(self, email: str) -> None:
        self.redis.delete(self.keys.login_failures(email))

    def create_api_token(self, brand_id: str) -> str:
        token = "sat_" + secrets.token_urlsafe(32)
        digest = hash_token(token)
        pipe = self.redis.pipeline(transaction=False)
        pipe.set(self.keys.api_token(digest), brand_id)
        pipe.sadd(self.keys.brand_tokens(brand_id), digest)
        pipe.execute()
        return token

    def brand_for_token(self, token: str) -> str | None:
        return cast("str | None", self.redis.get(self.keys.api_token(hash_token(token))))


class People(Domain):
    """The named people who speak for a brand (its roster)."""

    def save_person(self, brand_id: str, person: JSONObject) -> None:
        self.redis.hset(self.keys.brand_people(brand_id), person["id"], orjson.dumps(person))

    def brand_people(self, brand_id: str) -> list[JSONObject]:
        people = [orjson.loads(raw) for raw in self.redis.hvals(self.keys.brand_people(brand_id))]
        return sorted(people, key=lambda p: p["name"].lower())

    def get_person(self, brand_id: str, person_id: str) -> JSONObject | None:
        raw = self.redis.hget(self.keys.brand_people(brand_id), person_id)
        return orjson.loads(raw) if raw else None

    def delete_person(self, brand_id: str, person_id: str) -> None:
        self.redis.hdel(self.keys.brand_people(brand_id), person_id)
