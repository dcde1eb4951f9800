"""Keep a Cognito user's identity (`sub`) across local restarts, which moto cannot do by itself.

Every event of a customer names them by their `sub` (USER#<sub>, an order's user_id). With
`orders dev --data-dir`, the log survives a restart but moto's user pool does not, and a new
sign-up would get a new `sub`: the customer would no longer own their orders. So the local
runtime saves each user (name, attributes with `sub`, groups) and, on the next start,
re-creates them and sets moto's internal id back to the saved `sub` (`give_back_sub`, in moto's
process: infra/dev/moto_main.py). On AWS a user pool is
not restored from a backup either; there the pool simply lives on.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

from infra.emulator.resources import Resources


def saved_users(cognito: Any, resources: Resources) -> list[dict[str, Any]]:
    users = []
    for page in cognito.get_paginator("list_users").paginate(UserPoolId=resources.user_pool_id):
        for user in page["Users"]:
            groups = cognito.admin_list_groups_for_user(
                UserPoolId=resources.user_pool_id, Username=user["Username"]
            )
            users.append(
                {
                    "username": user["Username"],
                    "attributes": {a["Name"]: a["Value"] for a in user.get("Attributes", [])},
                    "groups": [group["GroupName"] for group in groups["Groups"]],
                }
            )
    return users


def restore_users(
    cognito: Any, resources: Resources, users: list[dict[str, Any]], give_back_sub: Callable[[str, str], None]
) -> None:
    """Re-create each user, confirmed, in its groups; `give_back_sub(created, sub)` gives the
    user created as `created` its old `sub` (in moto's memory)."""
    for user in users:
        attributes = {name: value for name, value in user["attributes"].items() if name != "sub"}
        email = attributes["email"]
        created = cognito.admin_create_user(
            UserPoolId=resources.user_pool_id,
            Username=email,
            UserAttributes=[{"Name": name, "Value": value} for name, value in attributes.items()],
            MessageAction="SUPPRESS",
        )["User"]["Username"]
        sub = user["attributes"].get("sub")
        if sub and sub != created:
            give_back_sub(created, sub)
        cognito.admin_set_user_password(
            UserPoolId=resources.user_pool_id,
            Username=email,
            Password=secrets.token_urlsafe(18) + "aA1!",
            Permanent=True,  # CONFIRMED; `orders token` sets a fresh password each time anyway
        )
        for group in user["groups"]:
            cognito.admin_add_user_to_group(
                UserPoolId=resources.user_pool_id, Username=email, GroupName=group
            )


def give_back_sub(pool: Any, created: str, sub: str) -> None:
    """With e-mail sign-in the username is the sub: give the user of moto's `pool` back both."""
    restored = pool.users.pop(created)
    restored.id = restored.username = sub
    restored.update_attributes([{"Name": "sub", "Value": sub}])
    pool.users[sub] = restored
