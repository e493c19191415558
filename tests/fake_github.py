"""A small stateful fake of the GitHub REST API, served on 127.0.0.1 by pytest-httpserver.

It holds what modelreg uses - pull requests, reviews, issue comments, team
memberships, commits' pull requests, PR commits, releases and release assets - and
answers with payloads shaped like GitHub's (the same fields as ../shared/fixtures/github-events/),
with every URL pointing back at itself, as PyGithub requires.

It is deliberately no kinder than GitHub (sources: /tmp/research/github-facts.md):
- list endpoints are paginated (30 per page by default, at most 100) with GitHub's `Link` header;
- tokens have permissions (`tokens`): an Actions GITHUB_TOKEN cannot see organisation teams (404),
  a fork PR's token cannot write (403), an unknown token is refused (401);
- a rate-limit 403 and a permission 403 look different, as on GitHub;
- a pending team invitation is not a membership; a dismissed review keeps its id;
- requesting a review from the PR's author, or opening a second PR for the same head, answers 422;
- release assets are uploaded only to the release's `upload_url`, a host of its own on GitHub (here the path
  prefix /uploads, as GitHub Enterprise Server's /api/uploads): POSTing them to the API answers 404. A second
  asset of the same name answers 422 already_exists (nothing is replaced); a name with other characters than
  [A-Za-z0-9._-] is stored renamed; a published release of a repository with immutable releases takes no
  asset (422); downloading an asset's bytes answers 302 to a separate, token-less download URL.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import re
import time
import zlib
from dataclasses import dataclass, field
from urllib.parse import quote, unquote, urlencode

from werkzeug.wrappers import Request, Response

DOCS = "https://docs.github.com/rest"
WRITES = {"POST", "PATCH", "PUT", "DELETE"}
RATE_LIMIT_DOCS = "https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api"
PERMISSION_DOCS = "https://docs.github.com/rest/using-the-rest-api/troubleshooting-the-rest-api#resource-not-accessible"
TEAM_DOCS = "https://docs.github.com/rest/teams/members#get-team-membership-for-a-user"
DEFAULT_TOKENS = {"t0ken": "actions", "members-t0ken": "members", "fork-t0ken": "fork"}


def _stable_id(text: str) -> int:
    return zlib.crc32(text.lower().encode()) % 10**6 + 1


def _int(value: str | None, default: int) -> int:
    return int(value) if value is not None and value.lstrip("-").isdigit() else default


@dataclass
class FakeGitHub:
    base_url: str
    owner: str = "Codertocat"
    name: str = "Hello-World"
    repo_id: int = 1296269
    pulls: dict[int, dict] = field(default_factory=dict)
    reviews: dict[int, list[dict]] = field(default_factory=dict)
    comments: dict[int, dict] = field(default_factory=dict)
    teams: dict[tuple[str, str], set[str]] = field(default_factory=dict)  # (org, slug) -> active members
    pending: dict[tuple[str, str], set[str]] = field(default_factory=dict)  # (org, slug) -> invited, not yet members
    commit_pulls: dict[str, list[int]] = field(default_factory=dict)
    pull_commits: dict[int, list[dict]] = field(default_factory=dict)  # PR number -> commits, oldest first
    releases: dict[str, dict] = field(default_factory=dict)
    assets: dict[int, dict] = field(default_factory=dict)  # asset id -> asset, with "_release" (id) and "_data"
    immutable_releases: bool = False  # the repository setting: a published release is immutable
    asset_digests: bool = True  # False: uploads get no `digest`, as assets uploaded before June 2025 have none
    # token -> kind: "actions" (workflow GITHUB_TOKEN), "members" (org Members: read, repository read-only),
    # "fork" (a fork PR's read-only GITHUB_TOKEN)
    tokens: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_TOKENS))
    requests: list[tuple[str, str]] = field(default_factory=list)  # (method, path as sent)
    calls: list[tuple[str, str, dict, str | None]] = field(default_factory=list)  # + (query, token kind)
    # injected faults, each used once: (method, path regex, status[, headers[, seconds to wait before answering
    # [, kind]]]); a 403 or 429 is a primary rate limit unless kind is "permission" or "secondary". The regex is
    # matched against the /repos/{owner}/{name}/... form even when the client used /repositories/{id}/...
    failures: list[tuple] = field(default_factory=list)
    rate_limit_reset_in: int = 0  # seconds until x-ratelimit-reset; PyGithub's retry sleeps that long (+1 s)
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1000))

    # ---- state helpers for tests ----
    @property
    def repo_url(self) -> str:
        return f"{self.base_url}/repos/{self.owner}/{self.name}"

    def user(self, login: str) -> dict:
        return {"login": login, "id": _stable_id(login), "type": "Bot" if login.endswith("[bot]") else "User",
                "url": f"{self.base_url}/users/{login}", "html_url": f"https://github.com/{login}"}

    def add_pull(self, number: int, head_sha: str, base_sha: str, author: str, head_ref: str = "changes",
                 merged: bool = False, base_ref: str = "main") -> dict:
        self.pulls[number] = {
            "number": number, "id": 10_000 + number, "state": "closed" if merged else "open", "merged": merged,
            "merged_at": "2026-11-26T12:00:00Z" if merged else None,
            "title": f"PR {number}", "body": "", "user": self.user(author), "commits": 1,
            "url": f"{self.repo_url}/pulls/{number}", "html_url": f"https://github.com/{self.owner}/{self.name}/pull/{number}",
            "issue_url": f"{self.repo_url}/issues/{number}", "requested_reviewers": [], "requested_teams": [],
            "head": {"sha": head_sha, "ref": head_ref, "label": f"{self.owner}:{head_ref}"},
            "base": {"sha": base_sha, "ref": base_ref, "label": f"{self.owner}:{base_ref}"},
        }
        self.reviews.setdefault(number, [])
        return self.pulls[number]

    def review(self, number: int, login: str, state: str, commit_id: str) -> int:
        """Record a submitted review; returns its id. A reviewer who reviews stops being a requested reviewer.

        https://docs.github.com/rest/pulls/review-requests#get-all-requested-reviewers-for-a-pull-request
        A PENDING review (a draft) has no submitted_at and is not listed (it is visible to its author only).
        https://docs.github.com/rest/pulls/reviews#list-reviews-for-a-pull-request
        """
        ident = next(self._ids)
        review = {"id": ident, "user": self.user(login), "state": state, "commit_id": commit_id, "body": "",
                  "submitted_at": "2026-11-26T12:00:00Z",
                  "pull_request_url": f"{self.repo_url}/pulls/{number}",
                  "html_url": f"https://github.com/{self.owner}/{self.name}/pull/{number}#pullrequestreview-{ident}"}
        if state == "PENDING":
            del review["submitted_at"]
        self.reviews[number].append(review)
        if number in self.pulls and state != "PENDING":
            pull = self.pulls[number]
            pull["requested_reviewers"] = [u for u in pull.get("requested_reviewers", [])
                                           if u["login"].lower() != login.lower()]
        return ident

    def dismiss(self, number: int, review_id: int) -> dict:
        """Dismiss a review: the same review (same id, commit_id, submitted_at) turns DISMISSED; none is added.

        https://docs.github.com/rest/pulls/reviews#dismiss-a-review-for-a-pull-request
        """
        review = next(r for r in self.reviews[number] if r["id"] == review_id)
        review["state"] = "DISMISSED"
        return review

    def add_commit(self, number: int, sha: str, author_login: str | None, committer_login: str | None,
                   message: str = "change", git_author: dict | None = None, git_committer: dict | None = None) -> dict:
        """Append a commit to PR `number`, shaped like GET .../pulls/{n}/commits returns it.

        `commit.author`/`commit.committer` are the git identities {name, email, date} (never null; override them
        with `git_author`/`git_committer`); the top-level `author`/`committer` are the GitHub accounts linked to
        them, null when GitHub links none (pass None). A web UI commit's committer is web-flow, whose git identity
        is "GitHub <noreply@github.com>".
        https://docs.github.com/rest/pulls/pulls#list-commits-on-a-pull-request
        """
        def git_identity(login: str | None, given: dict | None) -> dict:
            name, email = ("GitHub", "noreply@github.com") if login == "web-flow" else (
                (login, f"{login}@users.noreply.github.com") if login else ("Someone", "someone@example.com"))
            return {"name": name, "email": email, "date": "2026-11-26T12:00:00Z", **(given or {})}

        commit = {"sha": sha, "node_id": f"C_{sha[:10]}", "url": f"{self.repo_url}/commits/{sha}",
                  "html_url": f"https://github.com/{self.owner}/{self.name}/commit/{sha}",
                  "commit": {"author": git_identity(author_login, git_author),
                             "committer": git_identity(committer_login, git_committer),
                             "message": message, "url": f"{self.repo_url}/git/commits/{sha}",
                             "tree": {"sha": "0" * 40, "url": f"{self.repo_url}/git/trees/{'0' * 40}"}},
                  "author": self.user(author_login) if author_login else None,
                  "committer": self.user(committer_login) if committer_login else None, "parents": []}
        self.pull_commits.setdefault(number, []).append(commit)
        if number in self.pulls:
            self.pulls[number]["commits"] = len(self.pull_commits[number])
        return commit

    def event(self, number: int, action: str = "opened") -> dict:
        """A pull_request event payload for PR `number`, shaped like GitHub's."""
        pull = self.pulls[number]
        return {"action": action, "number": number, "pull_request": pull,
                "repository": {"full_name": f"{self.owner}/{self.name}", "name": self.name,
                               "owner": self.user(self.owner), "default_branch": "main"},
                "sender": pull["user"]}

    def pr_comments(self, number: int) -> list[dict]:
        return [c for c in self.comments.values() if c["_issue"] == number]

    def add_release(self, tag: str, name: str | None = None, body: str = "", draft: bool = False) -> dict:
        """A release made by someone else (by hand, or by an older run)."""
        self._create_release({"tag_name": tag, "name": name or tag, "body": body, "draft": draft})
        return self.releases[tag]

    def add_asset(self, tag: str, name: str, data: bytes, *, state: str = "uploaded", digest: bool = True,
                  uploader: str = "mallory", content_type: str = "application/octet-stream") -> dict:
        """An asset already on the release of `tag`; `digest=False` as for assets uploaded before June 2025, a
        `state` other than "uploaded" as a failed upload leaves behind (its bytes are then not there)."""
        release = self.releases[tag]
        data = data if state == "uploaded" else b""
        asset = self._store_asset(release, name, data, content_type, "", uploader)
        asset.update(state=state, digest=f"sha256:{hashlib.sha256(data).hexdigest()}"
                     if digest and state == "uploaded" else None)
        return asset

    def release_assets(self, tag: str) -> list[dict]:
        """The assets of the release of `tag`, as the API lists them (oldest first)."""
        ident = self.releases[tag]["id"]
        return [self._public(a) for a in self.assets.values() if a["_release"] == ident]

    def asset_bytes(self, tag: str, name: str) -> bytes:
        ident = self.releases[tag]["id"]
        return next(a["_data"] for a in self.assets.values() if a["_release"] == ident and a["name"] == name)

    # ---- the HTTP side ----
    def handle(self, request: Request) -> Response:
        method, sent = request.method, unquote(request.path)
        upload = sent.startswith("/uploads/")  # uploads.github.com: only release assets are uploaded there
        path = self._canonical(sent[len("/uploads"):] if upload else sent)
        self.requests.append((method, sent))
        download = re.fullmatch(r"/_release-assets/(\d+)/[^/]+", sent)
        if download and method == "GET":  # the download host: a signed URL, no token (PyGithub drops it elsewhere)
            self.calls.append((method, sent, dict(request.args), None))
            return self._download(int(download[1]), request.args.get("sig"))
        kind = self._token_kind(request)
        self.calls.append((method, sent, dict(request.args), kind))
        if kind is None:
            return self._error(401, "Bad credentials")
        for index, fault in enumerate(self.failures):
            if fault[0] == method and re.fullmatch(fault[1], path):
                del self.failures[index]
                return self._failure(*fault[2:])
        if re.match(r"/orgs/[^/]+/teams/|/organizations/\d+/team/", path) and kind != "members":
            # a GITHUB_TOKEN has no organisation Members permission; GitHub hides what it cannot see with a 404
            # https://docs.github.com/en/rest/using-the-rest-api/troubleshooting-the-rest-api (404 Not Found)
            return self._error(404, "Not Found", TEAM_DOCS)
        if method in WRITES and kind in ("members", "fork"):
            return self._permission_denied()
        repo = f"/repos/{self.owner}/{self.name}"
        if upload:
            match = re.fullmatch(rf"{repo}/releases/(\d+)/assets", path)
            if method == "POST" and match:
                return self._upload(int(match[1]), request)
            return self._error(404, "Not Found")
        body = request.get_json(silent=True) or {}
        page = lambda items: self._page(request, path, items)
        routes = [
            ("GET", rf"{repo}", lambda m: self._repo()),
            ("GET", rf"{repo}/pulls/(\d+)", lambda m: self._found(self.pulls.get(int(m[1])))),
            ("GET", rf"{repo}/pulls/(\d+)/reviews", lambda m: page(
                [r for r in self.reviews.get(int(m[1]), []) if r["state"] != "PENDING"])),
            ("PUT", rf"{repo}/pulls/(\d+)/reviews/(\d+)/dismissals", lambda m: self._dismissal(int(m[1]), int(m[2]))),
            ("GET", rf"{repo}/pulls/(\d+)/commits", lambda m: page(self.pull_commits.get(int(m[1]), [])[:250])),
            ("POST", rf"{repo}/pulls", lambda m: self._create_pull(body)),
            ("GET", rf"{repo}/pulls/(\d+)/requested_reviewers", lambda m: self._requested(int(m[1]))),
            ("POST", rf"{repo}/pulls/(\d+)/requested_reviewers", lambda m: self._request_reviewers(int(m[1]), body)),
            ("GET", rf"{repo}/issues/(\d+)", lambda m: self._issue(int(m[1]))),
            ("GET", rf"{repo}/issues/(\d+)/comments", lambda m: page(
                [self._public(c) for c in self.pr_comments(int(m[1]))])),
            ("POST", rf"{repo}/issues/(\d+)/comments", lambda m: self._comment(int(m[1]), body)),
            ("PATCH", rf"{repo}/issues/comments/(\d+)", lambda m: self._edit_comment(int(m[1]), body)),
            ("GET", r"/orgs/([^/]+)", lambda m: self._json({"login": m[1], "id": _stable_id(m[1]),
                                                            "url": f"{self.base_url}/orgs/{m[1]}"})),
            ("GET", r"/orgs/([^/]+)/teams/([^/]+)", lambda m: self._team(m[1], m[2])),
            ("GET", r"/orgs/([^/]+)/teams/([^/]+)/memberships/([^/]+)", lambda m: self._membership(m[1], m[2], m[3])),
            ("GET", r"/organizations/\d+/team/(\d+)", lambda m: self._team(*self._team_by_id(int(m[1])))),
            ("GET", r"/organizations/\d+/team/(\d+)/memberships/([^/]+)", lambda m: self._membership(
                *self._team_by_id(int(m[1])), m[2])),
            ("GET", rf"{repo}/commits/([0-9a-f]+)", lambda m: self._commit(m[1])),
            ("GET", rf"{repo}/commits/([0-9a-f]+)/pulls", lambda m: page(
                [self.pulls[n] for n in self.commit_pulls.get(m[1], [])])),
            ("GET", rf"{repo}/releases", lambda m: page([self._release(r) for r in self.releases.values()])),
            ("GET", rf"{repo}/releases/tags/(.+)", lambda m: self._release_by_tag(m[1])),
            ("POST", rf"{repo}/releases", lambda m: self._create_release(body)),
            ("GET", rf"{repo}/releases/(\d+)", lambda m: self._found(self._release(self._release_by_id(int(m[1]))))),
            ("PATCH", rf"{repo}/releases/(\d+)", lambda m: self._update_release(int(m[1]), body)),
            ("GET", rf"{repo}/releases/(\d+)/assets", lambda m: self._list_assets(int(m[1]), page)),
            ("GET", rf"{repo}/releases/assets/(\d+)", lambda m: self._asset(int(m[1]), request)),
            ("DELETE", rf"{repo}/releases/assets/(\d+)", lambda m: self._delete_asset(int(m[1]))),
        ]
        for route_method, pattern, action in routes:
            match = re.fullmatch(pattern, path)
            if match and route_method == method:
                return action(match)
        return self._error(404, "Not Found")

    # ---- cross-cutting behaviour: paths, tokens, errors, pagination ----
    def _canonical(self, path: str) -> str:
        """GitHub accepts /repos/{owner}/{repo} in any letter case and /repositories/{id}; route on one form."""
        match = re.fullmatch(rf"/repos/([^/]+)/([^/]+)(/.*)?|/repositories/{self.repo_id}(/.*)?", path)
        ours = (self.owner.lower(), self.name.lower())
        if match and (match[1] is None or (match[1].lower(), match[2].lower()) == ours):
            return f"/repos/{self.owner}/{self.name}" + (match[3] or match[4] or "")
        return path

    def _token_kind(self, request: Request) -> str | None:
        """The kind of the token in `Authorization: token X` or `Bearer X`; None for a missing or unknown one (401).

        (GitHub would serve anonymous reads of a public repository; the fake requires a token, as modelreg does.)

        https://docs.github.com/rest/authentication/authenticating-to-the-rest-api
        """
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        return self.tokens.get(token.strip()) if scheme.lower() in ("token", "bearer") else None

    def _json(self, data, status: int = 200) -> Response:
        return Response(json.dumps(data), status=status, content_type="application/json")

    def _error(self, status: int, message: str, docs: str = DOCS, **extra) -> Response:
        return self._json({"message": message, **extra, "documentation_url": docs, "status": str(status)}, status)

    def _found(self, item: dict | None) -> Response:
        return self._json(item) if item is not None else self._error(404, "Not Found")

    def _permission_denied(self) -> Response:
        """403 for a token without the permission: no x-ratelimit-remaining: 0, no retry-after.

        https://docs.github.com/en/rest/using-the-rest-api/troubleshooting-the-rest-api#resource-not-accessible
        """
        return self._error(403, "Resource not accessible by integration", PERMISSION_DOCS)

    def _failure(self, status: int, headers: dict | None = None, delay: float = 0, kind: str = "rate") -> Response:
        """An injected failure. A 403/429 is a rate limit unless `kind` is "permission".

        Primary limit: x-ratelimit-remaining: 0 and x-ratelimit-reset (UTC epoch seconds); secondary limit: its
        own message, and retry-after only if the test passes one (PyGithub otherwise waits 60 s).
        https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api
        """
        if delay:
            time.sleep(delay)
        if status in (403, 429) and kind == "permission":
            response = self._permission_denied()
        elif status in (403, 429) and kind == "secondary":
            response = self._error(status, "You have exceeded a secondary rate limit. Please wait a few minutes "
                                   "before you try again.", RATE_LIMIT_DOCS)
        elif status in (403, 429):
            response = self._error(status, "API rate limit exceeded for installation ID 1.", RATE_LIMIT_DOCS)
            reset = int(time.time()) + self.rate_limit_reset_in
            response.headers.update({"x-ratelimit-limit": "1000", "x-ratelimit-remaining": "0",
                                     "x-ratelimit-used": "1000", "x-ratelimit-reset": str(reset),
                                     "x-ratelimit-resource": "core"})
        else:
            response = self._json({"message": "injected failure"}, status)
        response.headers.update(headers or {})
        return response

    def _page(self, request: Request, path: str, items: list) -> Response:
        """One page of a list: `per_page` (default 30, at most 100) and `page` (from 1), with GitHub's Link header.

        The header is `<URL>; rel="prev", <URL>; rel="next", <URL>; rel="last", <URL>; rel="first"`: prev and
        first are left out on the first page, next and last on the last; no header when one page holds all.
        Like GitHub, the links name the repository by id (/repositories/{id}/...) and echo the other parameters.
        https://docs.github.com/en/rest/using-the-rest-api/using-pagination-in-the-rest-api
        """
        per_page = _int(request.args.get("per_page"), 30)
        per_page = 30 if per_page < 1 else min(per_page, 100)
        number = max(_int(request.args.get("page"), 1), 1)
        last = max(math.ceil(len(items) / per_page), 1)
        response = self._json(items[(number - 1) * per_page:number * per_page])
        if last > 1:
            repo = f"/repos/{self.owner}/{self.name}"
            link_path = f"/repositories/{self.repo_id}{path[len(repo):]}" if path.startswith(repo) else path
            others = [(k, v) for k, v in request.args.items(multi=True) if k != "page"]
            url = lambda n: f"<{self.base_url}{link_path}?{urlencode([*others, ('page', n)])}>"
            rels = [(number - 1, "prev", number > 1), (number + 1, "next", number < last),
                    (last, "last", number < last), (1, "first", number > 1)]
            response.headers["Link"] = ", ".join(f'{url(n)}; rel="{rel}"' for n, rel, shown in rels if shown)
        return response

    # ---- endpoints ----
    def _repo(self) -> Response:
        return self._json({"id": self.repo_id, "name": self.name, "full_name": f"{self.owner}/{self.name}",
                           "owner": self.user(self.owner), "private": False, "default_branch": "main",
                           "url": self.repo_url, "html_url": f"https://github.com/{self.owner}/{self.name}"})

    def _dismissal(self, number: int, ident: int) -> Response:
        """PUT .../pulls/{n}/reviews/{id}/dismissals: 200 with the same review, state DISMISSED.

        https://docs.github.com/rest/pulls/reviews#dismiss-a-review-for-a-pull-request
        """
        if not any(r["id"] == ident for r in self.reviews.get(number, [])):
            return self._error(404, "Not Found")
        return self._json(self.dismiss(number, ident))

    def _create_pull(self, body: dict) -> Response:
        """POST /pulls; 422 "A pull request already exists for OWNER:BRANCH." when an open one has that head and base.

        https://docs.github.com/rest/pulls/pulls#create-a-pull-request
        """
        head_owner, _, branch = body["head"].rpartition(":")
        head_owner, base = head_owner or self.owner, body.get("base", "main")
        if any(p["state"] == "open" and p["head"]["ref"] == branch and p["base"]["ref"] == base
               for p in self.pulls.values()):
            return self._error(422, "Validation Failed", f"{DOCS}/pulls/pulls#create-a-pull-request",
                               errors=[{"resource": "PullRequest", "code": "custom",
                                        "message": f"A pull request already exists for {head_owner}:{branch}."}])
        number = max(self.pulls, default=0) + 1
        pull = self.add_pull(number, body.get("head_sha", "0" * 40), "0" * 40, self.owner, branch, base_ref=base)
        pull.update(title=body["title"], body=body.get("body", ""))
        return self._json(pull, 201)

    def _requested(self, number: int) -> Response:
        """GET .../requested_reviewers: an object {users, teams}, not a paginated list.

        https://docs.github.com/rest/pulls/review-requests#get-all-requested-reviewers-for-a-pull-request
        """
        if number not in self.pulls:
            return self._error(404, "Not Found")
        pull = self.pulls[number]
        return self._json({"users": pull["requested_reviewers"], "teams": pull["requested_teams"]})

    def _request_reviewers(self, number: int, body: dict) -> Response:
        """POST .../requested_reviewers adds to the requests; 422 when it names the PR's author.

        https://docs.github.com/rest/pulls/review-requests#request-reviewers-for-a-pull-request
        """
        if number not in self.pulls:
            return self._error(404, "Not Found")
        pull = self.pulls[number]
        users, teams = body.get("reviewers", []), body.get("team_reviewers", [])
        if pull["user"]["login"].lower() in {u.lower() for u in users}:
            return self._error(422, "Review cannot be requested from pull request author.",
                               f"{DOCS}/pulls/review-requests#request-reviewers-for-a-pull-request")
        known = {u["login"].lower() for u in pull["requested_reviewers"]}
        pull["requested_reviewers"] += [self.user(u) for u in users if u.lower() not in known]
        known_teams = {t["slug"] for t in pull["requested_teams"]}
        pull["requested_teams"] += [{"slug": t, "name": t} for t in teams if t not in known_teams]
        return self._json(pull, 201)

    def _issue(self, number: int) -> Response:
        if number not in self.pulls:
            return self._error(404, "Not Found")
        return self._json({"number": number, "id": 20_000 + number, "title": self.pulls[number]["title"],
                           "url": f"{self.repo_url}/issues/{number}", "state": self.pulls[number]["state"],
                           "comments_url": f"{self.repo_url}/issues/{number}/comments",
                           "pull_request": {"url": self.pulls[number]["url"]}, "user": self.pulls[number]["user"]})

    def _public(self, comment: dict) -> dict:
        return {k: v for k, v in comment.items() if not k.startswith("_")}

    def _comment(self, number: int, body: dict) -> Response:
        if number not in self.pulls:
            return self._error(404, "Not Found")
        ident = next(self._ids)
        html = f"https://github.com/{self.owner}/{self.name}/pull/{number}#issuecomment-{ident}"
        self.comments[ident] = {"id": ident, "body": body["body"], "user": self.user("github-actions[bot]"),
                                "url": f"{self.repo_url}/issues/comments/{ident}", "html_url": html,
                                "issue_url": f"{self.repo_url}/issues/{number}", "_issue": number}
        return self._json(self._public(self.comments[ident]), 201)

    def _edit_comment(self, ident: int, body: dict) -> Response:
        if ident not in self.comments:
            return self._error(404, "Not Found")
        self.comments[ident]["body"] = body["body"]
        return self._json(self._public(self.comments[ident]))

    def _team_key(self, org: str, slug: str) -> tuple[str, str] | None:
        """The (org, slug) key of a team, in `teams` or `pending`; org logins are case-insensitive."""
        return next((key for key in [*self.teams, *self.pending]
                     if (key[0].lower(), key[1].lower()) == (org.lower(), slug.lower())), None)

    def _team_by_id(self, ident: int) -> tuple[str, str]:
        return next((key for key in [*self.teams, *self.pending] if _stable_id("/".join(key)) == ident), ("", ""))

    def _team(self, org: str, slug: str) -> Response:
        """GET /orgs/{org}/teams/{slug}. Its `url` is by id (/organizations/{org_id}/team/{team_id}), as on GitHub.

        https://docs.github.com/rest/teams/teams#get-a-team-by-name
        """
        key = self._team_key(org, slug)
        if key is None:
            return self._error(404, "Not Found")
        org, slug = key
        return self._json({"id": _stable_id(f"{org}/{slug}"), "slug": slug, "name": slug, "privacy": "closed",
                           "url": f"{self.base_url}/organizations/{_stable_id(org)}/team/{_stable_id(f'{org}/{slug}')}",
                           "html_url": f"https://github.com/orgs/{org}/teams/{slug}",
                           "organization": {"login": org, "url": f"{self.base_url}/orgs/{org}"}})

    def _membership(self, org: str, slug: str, login: str) -> Response:
        """{"url", "role", "state": "active"|"pending"}; 404 if the user has no team membership.

        https://docs.github.com/rest/teams/members#get-team-membership-for-a-user
        """
        key = self._team_key(org, slug)
        if key is None:
            return self._error(404, "Not Found", TEAM_DOCS)
        for state, members in (("active", self.teams.get(key, set())), ("pending", self.pending.get(key, set()))):
            if login.lower() in {m.lower() for m in members}:
                team_url = f"{self.base_url}/organizations/{_stable_id(key[0])}/team/{_stable_id('/'.join(key))}"
                return self._json({"state": state, "role": "member", "url": f"{team_url}/memberships/{login}"})
        return self._error(404, "Not Found", TEAM_DOCS)

    def _commit(self, sha: str) -> Response:
        known = next((c for commits in self.pull_commits.values() for c in commits if c["sha"] == sha), None)
        return self._json({**(known or {"sha": sha, "url": f"{self.repo_url}/commits/{sha}",
                                        "html_url": f"https://github.com/{self.owner}/{self.name}/commit/{sha}",
                                        "commit": {"message": "", "url": f"{self.repo_url}/git/commits/{sha}"},
                                        "parents": []}), "files": []})

    def _create_release(self, body: dict) -> Response:
        """POST /releases; 422 already_exists for a tag that has a release.

        https://docs.github.com/rest/releases/releases#create-a-release
        """
        if body["tag_name"] in self.releases:
            return self._error(422, "Validation Failed", f"{DOCS}/releases/releases#create-a-release",
                               errors=[{"resource": "Release", "code": "already_exists", "field": "tag_name"}])
        ident = next(self._ids)
        draft = body.get("draft", False)
        release = {"id": ident, "tag_name": body["tag_name"], "name": body.get("name"), "body": body.get("body"),
                   "draft": draft, "prerelease": body.get("prerelease", False),
                   "immutable": self.immutable_releases and not draft,
                   "url": f"{self.repo_url}/releases/{ident}",
                   "assets_url": f"{self.repo_url}/releases/{ident}/assets",
                   "html_url": f"https://github.com/{self.owner}/{self.name}/releases/tag/{body['tag_name']}",
                   "upload_url": f"{self.base_url}/uploads/repos/{self.owner}/{self.name}/releases/{ident}/assets"
                                 "{?name,label}",
                   "author": self.user("github-actions[bot]")}
        self.releases[body["tag_name"]] = release
        return self._json(self._release(release), 201)

    def _update_release(self, ident: int, body: dict) -> Response:
        """PATCH /releases/{id}; publishing a draft (draft: false) of a repository with immutable releases makes
        it immutable (its title and notes stay editable).

        https://docs.github.com/rest/releases/releases#update-a-release
        https://docs.github.com/code-security/supply-chain-security/understanding-your-software-supply-chain/immutable-releases
        """
        release = self._release_by_id(ident)
        if release is None:
            return self._error(404, "Not Found")
        release.update({k: v for k, v in body.items() if k in ("name", "body", "tag_name", "draft", "prerelease")})
        if self.immutable_releases and not release.get("draft"):
            release["immutable"] = True
        return self._json(self._release(release))

    # ---- releases as the API shows them, and their assets ----
    def _release(self, release: dict | None) -> dict | None:
        """A release with its `assets` listed in it, as every release endpoint answers."""
        if release is None:
            return None
        return {**release, "assets": [self._public(a) for a in self.assets.values()
                                      if a["_release"] == release.get("id")]}

    def _release_by_id(self, ident: int) -> dict | None:
        return next((r for r in self.releases.values() if r.get("id") == ident), None)

    def _release_by_tag(self, tag: str) -> Response:
        """GET /releases/tags/{tag}: published releases only; a draft answers 404.

        https://docs.github.com/rest/releases/releases#get-a-release-by-tag-name
        """
        release = self.releases.get(tag)
        return self._found(self._release(release) if release is not None and not release.get("draft") else None)

    def _store_asset(self, release: dict, name: str, data: bytes, content_type: str, label: str,
                     uploader: str) -> dict:
        ident = next(self._ids)
        asset = {"url": f"{self.repo_url}/releases/assets/{ident}",
                 "browser_download_url": f"https://github.com/{self.owner}/{self.name}/releases/download/"
                                         f"{quote(release['tag_name'], safe='')}/{name}",
                 "id": ident, "node_id": f"RA_{ident}", "name": name, "label": label, "state": "uploaded",
                 "content_type": content_type, "size": len(data),
                 "digest": f"sha256:{hashlib.sha256(data).hexdigest()}" if self.asset_digests else None,
                 "download_count": 0, "created_at": "2026-11-26T12:00:00Z", "updated_at": "2026-11-26T12:00:00Z",
                 "uploader": self.user(uploader), "_release": release["id"], "_data": data,
                 "_sig": f"{zlib.crc32(data) ^ ident:08x}"}
        self.assets[ident] = asset
        return asset

    def _upload(self, ident: int, request: Request) -> Response:
        """POST {upload_url}?name=NAME&label=LABEL with the raw bytes as the body and their Content-Type.

        201 with the asset. 422 already_exists when the release has an asset of that name (GitHub never
        replaces one: delete it first); 422 for a published release of a repository with immutable releases.
        GitHub renames names with characters outside [A-Za-z0-9._-] (each becomes a period; a leading period
        gets "default" before it), and lists the renamed name.
        https://docs.github.com/rest/releases/assets#upload-a-release-asset
        """
        release = self._release_by_id(ident)
        if release is None:
            return self._error(404, "Not Found")
        name = request.args.get("name", "")
        if not name:
            return self._error(422, "Validation Failed", f"{DOCS}/releases/assets#upload-a-release-asset",
                               errors=[{"resource": "ReleaseAsset", "code": "missing_field", "field": "name"}])
        if not request.headers.get("Content-Type"):  # the docs call it required (the answer is the fake's guess)
            return self._error(422, "Validation Failed", f"{DOCS}/releases/assets#upload-a-release-asset",
                               errors=[{"resource": "ReleaseAsset", "code": "missing_field",
                                        "field": "content_type"}])
        if release.get("immutable"):
            return self._error(422, "Cannot upload assets to an immutable release.", DOCS)
        name = re.sub(r"[^A-Za-z0-9._-]", ".", name)
        name = f"default{name}" if name.startswith(".") else name
        if any(a["_release"] == ident and a["name"] == name for a in self.assets.values()):
            return self._error(422, "Validation Failed", f"{DOCS}/releases/assets#upload-a-release-asset",
                               errors=[{"resource": "ReleaseAsset", "code": "already_exists", "field": "name"}])
        asset = self._store_asset(release, name, request.get_data(), request.headers["Content-Type"],
                                  request.args.get("label", ""), "github-actions[bot]")
        return self._json(self._public(asset), 201)

    def _list_assets(self, ident: int, page) -> Response:
        """GET /releases/{id}/assets, paginated like every list.

        https://docs.github.com/rest/releases/assets#list-release-assets
        """
        if self._release_by_id(ident) is None:
            return self._error(404, "Not Found")
        return page([self._public(a) for a in self.assets.values() if a["_release"] == ident])

    def _asset(self, ident: int, request: Request) -> Response:
        """GET /releases/assets/{id}: the asset as JSON, or with Accept: application/octet-stream a 302 to where
        its bytes are (a signed URL on another host; GitHub may also answer 200 with them).

        https://docs.github.com/rest/releases/assets#get-a-release-asset
        """
        asset = self.assets.get(ident)
        if asset is None:
            return self._error(404, "Not Found")
        if request.headers.get("Accept", "").lower() == "application/octet-stream":
            response = Response(status=302)
            response.headers["Location"] = (f"{self.base_url}/_release-assets/{ident}/{quote(asset['name'])}"
                                            f"?sig={asset['_sig']}")
            return response
        return self._json(self._public(asset))

    def _download(self, ident: int, signature: str | None) -> Response:
        asset = self.assets.get(ident)
        if asset is None or signature != asset["_sig"] or asset["state"] != "uploaded":
            return Response("<Error><Code>AccessDenied</Code></Error>", status=403, content_type="application/xml")
        return Response(asset["_data"], status=200, content_type="application/octet-stream")

    def _delete_asset(self, ident: int) -> Response:
        """DELETE /releases/assets/{id}: 204; a published immutable release keeps its assets (the wording of
        that refusal is the fake's).

        https://docs.github.com/rest/releases/assets#delete-a-release-asset
        """
        asset = self.assets.get(ident)
        if asset is None:
            return self._error(404, "Not Found")
        if (self._release_by_id(asset["_release"]) or {}).get("immutable"):
            return self._error(422, "Cannot delete assets of an immutable release.", DOCS)
        del self.assets[ident]
        return Response(status=204)
