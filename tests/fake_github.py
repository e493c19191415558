"""A small stateful fake of the GitHub REST API, served on 127.0.0.1 by pytest-httpserver.

It holds what modelreg uses - pull requests, reviews, issue comments, team
memberships, commits' pull requests and releases - and answers with payloads
shaped like GitHub's (the same fields as ../shared/fixtures/github-events/),
with every URL pointing back at itself, as PyGithub requires.
"""

from __future__ import annotations

import itertools
import json
import re
import time
from dataclasses import dataclass, field
from urllib.parse import unquote

from werkzeug.wrappers import Request, Response


@dataclass
class FakeGitHub:
    base_url: str
    owner: str = "Codertocat"
    name: str = "Hello-World"
    pulls: dict[int, dict] = field(default_factory=dict)
    reviews: dict[int, list[dict]] = field(default_factory=dict)
    comments: dict[int, dict] = field(default_factory=dict)
    teams: dict[tuple[str, str], set[str]] = field(default_factory=dict)
    commit_pulls: dict[str, list[int]] = field(default_factory=dict)
    releases: dict[str, dict] = field(default_factory=dict)
    requests: list[tuple[str, str]] = field(default_factory=list)
    # injected faults, each used once: (method, path regex, status) or (method, path regex, status, headers,
    # seconds to wait before answering)
    failures: list[tuple] = field(default_factory=list)
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1000))

    # ---- state helpers for tests ----
    @property
    def repo_url(self) -> str:
        return f"{self.base_url}/repos/{self.owner}/{self.name}"

    def user(self, login: str) -> dict:
        return {"login": login, "id": abs(hash(login)) % 10**6, "type": "User",
                "url": f"{self.base_url}/users/{login}", "html_url": f"https://github.com/{login}"}

    def add_pull(self, number: int, head_sha: str, base_sha: str, author: str, head_ref: str = "changes",
                 merged: bool = False) -> dict:
        self.pulls[number] = {
            "number": number, "id": 10_000 + number, "state": "closed" if merged else "open", "merged": merged,
            "merged_at": "2026-11-26T12:00:00Z" if merged else None,
            "title": f"PR {number}", "body": "", "user": self.user(author),
            "url": f"{self.repo_url}/pulls/{number}", "html_url": f"https://github.com/{self.owner}/{self.name}/pull/{number}",
            "issue_url": f"{self.repo_url}/issues/{number}",
            "head": {"sha": head_sha, "ref": head_ref, "label": f"{self.owner}:{head_ref}"},
            "base": {"sha": base_sha, "ref": "main", "label": f"{self.owner}:main"},
        }
        self.reviews.setdefault(number, [])
        return self.pulls[number]

    def review(self, number: int, login: str, state: str, commit_id: str) -> None:
        self.reviews[number].append({"id": next(self._ids), "user": self.user(login), "state": state,
                                     "commit_id": commit_id, "body": "", "submitted_at": "2026-11-26T12:00:00Z",
                                     "pull_request_url": f"{self.repo_url}/pulls/{number}",
                                     "html_url": f"https://github.com/{self.owner}/{self.name}/pull/{number}"})

    def event(self, number: int, action: str = "opened") -> dict:
        """A pull_request event payload for PR `number`, shaped like GitHub's."""
        pull = self.pulls[number]
        return {"action": action, "number": number, "pull_request": pull,
                "repository": {"full_name": f"{self.owner}/{self.name}", "name": self.name,
                               "owner": self.user(self.owner), "default_branch": "main"},
                "sender": pull["user"]}

    def pr_comments(self, number: int) -> list[dict]:
        return [c for c in self.comments.values() if c["_issue"] == number]

    # ---- the HTTP side ----
    def handle(self, request: Request) -> Response:
        method, path = request.method, unquote(request.path)
        self.requests.append((method, path))
        for index, fault in enumerate(self.failures):
            fail_method, pattern, status = fault[:3]
            if fail_method == method and re.fullmatch(pattern, path):
                del self.failures[index]
                headers, delay = (fault[3] if len(fault) > 3 else {}), (fault[4] if len(fault) > 4 else 0)
                if delay:
                    time.sleep(delay)
                message = "API rate limit exceeded for installation" if status == 403 else "injected failure"
                response = self._json({"message": message}, status)
                response.headers.update(headers)
                return response
        body = request.get_json(silent=True) or {}
        repo = f"/repos/{self.owner}/{self.name}"
        routes = [
            ("GET", rf"{repo}", lambda m: self._repo()),
            ("GET", rf"{repo}/pulls/(\d+)", lambda m: self._pull(int(m[1]))),
            ("GET", rf"{repo}/pulls/(\d+)/reviews", lambda m: self._list(self.reviews.get(int(m[1]), []))),
            ("POST", rf"{repo}/pulls", lambda m: self._create_pull(body)),
            ("POST", rf"{repo}/pulls/(\d+)/requested_reviewers", lambda m: self._request_reviewers(int(m[1]), body)),
            ("GET", rf"{repo}/issues/(\d+)", lambda m: self._issue(int(m[1]))),
            ("GET", rf"{repo}/issues/(\d+)/comments", lambda m: self._list(
                [self._public(c) for c in self.comments.values() if c["_issue"] == int(m[1])])),
            ("POST", rf"{repo}/issues/(\d+)/comments", lambda m: self._comment(int(m[1]), body)),
            ("PATCH", rf"{repo}/issues/comments/(\d+)", lambda m: self._edit_comment(int(m[1]), body)),
            ("GET", r"/orgs/([^/]+)", lambda m: self._json({"login": m[1], "id": 1, "url": f"{self.base_url}/orgs/{m[1]}"})),
            ("GET", r"/orgs/([^/]+)/teams/([^/]+)", lambda m: self._team(m[1], m[2])),
            ("GET", r"/orgs/([^/]+)/teams/([^/]+)/memberships/([^/]+)", lambda m: self._membership(m[1], m[2], m[3])),
            ("GET", r"/organizations/\d+/team/(\d+)/memberships/([^/]+)", lambda m: self._membership(
                *self._team_by_id(int(m[1])), m[2])),
            ("GET", rf"{repo}/commits/([0-9a-f]+)", lambda m: self._commit(m[1])),
            ("GET", rf"{repo}/commits/([0-9a-f]+)/pulls", lambda m: self._list(
                [self.pulls[n] for n in self.commit_pulls.get(m[1], [])])),
            ("GET", rf"{repo}/releases", lambda m: self._list(list(self.releases.values()))),
            ("GET", rf"{repo}/releases/tags/(.+)", lambda m: self._release(m[1])),
            ("POST", rf"{repo}/releases", lambda m: self._create_release(body)),
            ("PATCH", rf"{repo}/releases/(\d+)", lambda m: self._update_release(int(m[1]), body)),
        ]
        for route_method, pattern, action in routes:
            match = re.fullmatch(pattern, path)
            if match and route_method == method:
                return action(match)
        return self._json({"message": "Not Found", "documentation_url": "https://docs.github.com/rest"}, 404)

    def _json(self, data, status: int = 200) -> Response:
        return Response(json.dumps(data), status=status, content_type="application/json")

    def _list(self, items: list) -> Response:
        return self._json(items)

    def _repo(self) -> Response:
        return self._json({"id": 1296269, "name": self.name, "full_name": f"{self.owner}/{self.name}",
                           "owner": self.user(self.owner), "private": False, "default_branch": "main",
                           "url": self.repo_url, "html_url": f"https://github.com/{self.owner}/{self.name}"})

    def _pull(self, number: int) -> Response:
        return self._json(self.pulls[number]) if number in self.pulls else self._json({"message": "Not Found"}, 404)

    def _create_pull(self, body: dict) -> Response:
        number = max(self.pulls, default=0) + 1
        pull = self.add_pull(number, body.get("head_sha", "0" * 40), "0" * 40, self.owner, body["head"])
        pull.update(title=body["title"], body=body.get("body", ""))
        pull["requested_reviewers"], pull["requested_teams"] = [], []
        return self._json(pull, 201)

    def _request_reviewers(self, number: int, body: dict) -> Response:
        pull = self.pulls[number]
        pull["requested_reviewers"] = [self.user(u) for u in body.get("reviewers", [])]
        pull["requested_teams"] = [{"slug": t, "name": t} for t in body.get("team_reviewers", [])]
        return self._json(pull, 201)

    def _issue(self, number: int) -> Response:
        if number not in self.pulls:
            return self._json({"message": "Not Found"}, 404)
        return self._json({"number": number, "id": 20_000 + number, "title": self.pulls[number]["title"],
                           "url": f"{self.repo_url}/issues/{number}", "state": self.pulls[number]["state"],
                           "comments_url": f"{self.repo_url}/issues/{number}/comments",
                           "pull_request": {"url": self.pulls[number]["url"]}, "user": self.pulls[number]["user"]})

    def _public(self, comment: dict) -> dict:
        return {k: v for k, v in comment.items() if not k.startswith("_")}

    def _comment(self, number: int, body: dict) -> Response:
        ident = next(self._ids)
        self.comments[ident] = {"id": ident, "body": body["body"], "user": self.user("github-actions[bot]"),
                                "url": f"{self.repo_url}/issues/comments/{ident}",
                                "html_url": f"https://github.com/{self.owner}/{self.name}/pull/{number}#issuecomment-{ident}",
                                "issue_url": f"{self.repo_url}/issues/{number}", "_issue": number}
        return self._json(self._public(self.comments[ident]), 201)

    def _edit_comment(self, ident: int, body: dict) -> Response:
        self.comments[ident]["body"] = body["body"]
        return self._json(self._public(self.comments[ident]))

    def _team_id(self, org: str, slug: str) -> int:
        return 100 + sorted(self.teams).index((org, slug))

    def _team_by_id(self, ident: int) -> tuple[str, str]:
        return sorted(self.teams)[ident - 100]

    def _team(self, org: str, slug: str) -> Response:
        if (org, slug) not in self.teams:
            return self._json({"message": "Not Found"}, 404)
        ident = self._team_id(org, slug)  # GitHub's team "url" is by id, not by slug
        return self._json({"id": ident, "slug": slug, "name": slug, "privacy": "closed",
                           "url": f"{self.base_url}/organizations/1/team/{ident}",
                           "html_url": f"https://github.com/orgs/{org}/teams/{slug}",
                           "organization": {"login": org, "url": f"{self.base_url}/orgs/{org}"}})

    def _membership(self, org: str, slug: str, login: str) -> Response:
        if login.lower() not in {m.lower() for m in self.teams.get((org, slug), set())}:
            return self._json({"message": "Not Found"}, 404)
        return self._json({"state": "active", "role": "member",
                           "url": f"{self.base_url}/orgs/{org}/teams/{slug}/memberships/{login}"})

    def _commit(self, sha: str) -> Response:
        return self._json({"sha": sha, "url": f"{self.repo_url}/commits/{sha}",
                           "html_url": f"https://github.com/{self.owner}/{self.name}/commit/{sha}",
                           "commit": {"message": "", "url": f"{self.repo_url}/git/commits/{sha}"},
                           "parents": [], "files": []})

    def _release(self, tag: str) -> Response:
        if tag not in self.releases:
            return self._json({"message": "Not Found"}, 404)
        return self._json(self.releases[tag])

    def _create_release(self, body: dict) -> Response:
        ident = next(self._ids)
        release = {"id": ident, "tag_name": body["tag_name"], "name": body.get("name"), "body": body.get("body"),
                   "draft": body.get("draft", False), "prerelease": body.get("prerelease", False),
                   "url": f"{self.repo_url}/releases/{ident}",
                   "html_url": f"https://github.com/{self.owner}/{self.name}/releases/tag/{body['tag_name']}",
                   "upload_url": f"{self.repo_url}/releases/{ident}/assets{{?name,label}}",
                   "author": self.user("github-actions[bot]")}
        if body["tag_name"] in self.releases:
            return self._json({"message": "Validation Failed", "errors": [{"code": "already_exists"}]}, 422)
        self.releases[body["tag_name"]] = release
        return self._json(release, 201)

    def _update_release(self, ident: int, body: dict) -> Response:
        release = next(r for r in self.releases.values() if r["id"] == ident)
        release.update({k: v for k, v in body.items() if k in ("name", "body", "tag_name", "draft", "prerelease")})
        return self._json(release)
