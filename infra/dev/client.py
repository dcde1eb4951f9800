"""Talk to a running `orders dev` from outside it: the CLI's commands and the end-to-end tests.

Everything goes over the same doors a client on AWS would use: the API over HTTP, Cognito
and SQS through moto's AWS API, the post-confirmation trigger through the control endpoint's
Lambda Invoke API. Only the e-mails SES "sent" are read from the control endpoint, which reads
moto's SES backend.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from infra.dev import state as dev_state
from infra.dev.redrive import RedriveReport
from infra.dev.state import DevState
from infra.emulator.aws import client
from infra.emulator.background import wait_until_idle

EMAIL_DOMAIN = "example.com"


class FunctionError(RuntimeError):
    def __init__(self, function: str, error: Any) -> None:
        self.function, self.error = function, error
        super().__init__(f"{function} failed: {error}")


@dataclass(frozen=True)
class Email:
    id: str
    source: str
    to: list[str]
    subject: str
    body: str


@dataclass(frozen=True)
class DeadLetter:
    queue: str
    message_id: str
    body: Any
    attributes: dict[str, str]


def email_of(username: str) -> str:
    return username if "@" in username else f"{username}@{EMAIL_DOMAIN}"


class DevClient:
    def __init__(self, state: DevState) -> None:
        self.state = state
        self.resources = state.resources
        self.http = httpx.Client(timeout=60)

    @classmethod
    def from_state_file(cls, path: Path = dev_state.DEFAULT_PATH) -> DevClient:
        return cls(dev_state.read(path))

    def _aws(self, service: str) -> Any:
        return client(service, self.state.moto_url, region=self.resources.region, caller="dev-client")

    # --- functions -----------------------------------------------------------------------------

    def invoke(self, function: str, event: Any) -> Any:
        """Lambda's Invoke API on the control endpoint; FunctionError when the function failed."""
        answer = self.http.post(
            f"{self.state.control_url}/2015-03-31/functions/{function}/invocations", json=event
        )
        if answer.status_code != 200:
            raise FunctionError(function, answer.text)
        if answer.headers.get("X-Amz-Function-Error"):
            raise FunctionError(function, answer.json())
        return answer.json()

    def invoke_logged(self, function: str, event: Any) -> tuple[bool, Any, dict[str, Any]]:
        """Invoke as `invoke` does, and also return what the runtime recorded of that invocation
        (duration, cold start, its log lines): (ok, result or error, record)."""
        answer = self.http.post(
            f"{self.state.control_url}/2015-03-31/functions/{function}/invocations", json=event
        )
        if answer.status_code != 200:
            raise FunctionError(function, answer.json().get("message", answer.text))
        records = self.invocations(request_id=answer.headers["x-amzn-RequestId"])
        record = records[0] if records else {}
        return not answer.headers.get("X-Amz-Function-Error"), answer.json(), record

    def invocations(self, **filters: str) -> list[dict[str, Any]]:
        answer = self.http.get(f"{self.state.control_url}/local/invocations", params=filters)
        answer.raise_for_status()
        return answer.json()["invocations"]

    def status(self) -> dict[str, Any]:
        answer = self.http.get(f"{self.state.control_url}/local/status")
        answer.raise_for_status()
        return answer.json()

    def alarms(self) -> list[dict[str, Any]]:
        """The topology's alarms and their state in the local CloudWatch (infra/emulator/alarms.py)."""
        answer = self.http.get(f"{self.state.control_url}/local/alarms")
        answer.raise_for_status()
        return answer.json()["alarms"]

    def requests(self) -> dict[str, Any]:
        """What moto has received so far, per caller and AWS operation (request_counter.py)."""
        answer = self.http.get(f"{self.state.control_url}/local/requests")
        answer.raise_for_status()
        return answer.json()

    def pause_pumps(self, paused: bool = True) -> None:
        """Stop every pump's polling (or, with False, start it again)."""
        action = "pause" if paused else "resume"
        self.http.post(f"{self.state.control_url}/local/pumps/{action}").raise_for_status()

    def wait_idle(self, timeout: float = 60) -> bool:
        """True once the pipeline has looked idle three times in a row (0.2 s apart)."""
        return wait_until_idle(lambda: self.status()["idle"], timeout)

    # --- Cognito -------------------------------------------------------------------------------

    def token(self, username: str, *, admin: bool = False, email: str | None = None) -> str:
        """An ID token for a user who signs in with `email` (default: `username`@example.com, or
        `username` itself if it is an address): signed up and confirmed the first time, which
        runs the post-confirmation trigger as Cognito does, and added to the admin group if asked."""
        cognito = self._aws("cognito-idp")
        pool, app = self.resources.user_pool_id, self.resources.app_client_id
        address = email or email_of(username)
        password = secrets.token_urlsafe(18) + "aA1!"
        try:
            cognito.sign_up(
                ClientId=app,
                Username=address,
                Password=password,
                UserAttributes=[{"Name": "email", "Value": address}],
            )
        except cognito.exceptions.UsernameExistsException:
            cognito.admin_set_user_password(
                UserPoolId=pool, Username=address, Password=password, Permanent=True
            )
        else:
            cognito.admin_confirm_sign_up(UserPoolId=pool, Username=address)
            try:
                self._post_confirmation(cognito, address)
            except FunctionError:
                # Cognito fails the confirmation when its trigger fails; start afresh next time.
                cognito.admin_delete_user(UserPoolId=pool, Username=address)
                raise
        if admin:
            cognito.admin_add_user_to_group(
                UserPoolId=pool, Username=address, GroupName=self.resources.admin_group
            )
        answer = cognito.initiate_auth(
            ClientId=app,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": address, "PASSWORD": password},
        )
        return answer["AuthenticationResult"]["IdToken"]

    def _post_confirmation(self, cognito: Any, address: str) -> None:
        pool = cognito.describe_user_pool(UserPoolId=self.resources.user_pool_id)["UserPool"]
        trigger = pool.get("LambdaConfig", {}).get("PostConfirmation")
        if not trigger:
            return
        user = cognito.admin_get_user(UserPoolId=self.resources.user_pool_id, Username=address)
        attributes = {attribute["Name"]: attribute["Value"] for attribute in user["UserAttributes"]}
        attributes.setdefault("email_verified", "true")
        attributes["cognito:user_status"] = "CONFIRMED"
        event = {
            "version": "1",
            "region": self.resources.region,
            "userPoolId": self.resources.user_pool_id,
            "userName": user["Username"],
            "callerContext": {
                "awsSdkVersion": "aws-sdk-unknown-unknown",
                "clientId": self.resources.app_client_id,
            },
            "triggerSource": "PostConfirmation_ConfirmSignUp",
            "request": {"userAttributes": attributes},
            "response": {},
        }
        self.invoke(trigger.rsplit(":", 1)[1], event)

    # --- the API -------------------------------------------------------------------------------

    def api(self, method: str, path: str, token: str | None = None, **kwargs: Any) -> httpx.Response:
        headers = dict(kwargs.pop("headers", {}) or {})
        if token:
            headers["Authorization"] = token
        return self.http.request(method, f"{self.state.api_url}{path}", headers=headers, **kwargs)

    # --- what the system did -------------------------------------------------------------------

    def emails(self) -> list[Email]:
        """Every e-mail SES accepted (moto keeps them), from the control endpoint."""
        answer = self.http.get(f"{self.state.control_url}/local/emails")
        answer.raise_for_status()
        return [
            Email(e["id"], e["source"], e["to"], e["subject"], e["body"]) for e in answer.json()["emails"]
        ]

    def redrive(self, queue: str) -> RedriveReport:
        """Put what `queue` holds back where it came from; KeyError for a queue that is not parked work."""
        answer = self.http.post(f"{self.state.control_url}/local/dlq/{queue}/redrive", timeout=600)
        if answer.status_code == 404:
            raise KeyError(answer.json()["message"])
        answer.raise_for_status()
        return RedriveReport.from_json(answer.json())

    def dead_letters(self) -> dict[str, list[DeadLetter]]:
        """What sits in each dead-letter queue (read without consuming), from the control endpoint."""
        answer = self.http.get(f"{self.state.control_url}/local/dead-letters")
        answer.raise_for_status()
        return {
            queue: [DeadLetter(**message) for message in messages]
            for queue, messages in answer.json()["dead_letters"].items()
        }
