"""GitHub through PyGithub: reviews, team membership, the sticky comment, releases and their assets, pull requests.

Imported only by the commands that talk to GitHub. The API address comes from
$GITHUB_API_URL (Actions sets it; tests point it at a local fake), the token
from $GITHUB_TOKEN, the repository from $GITHUB_REPOSITORY.
"""

from __future__ import annotations

import hashlib
import io
import os
from dataclasses import dataclass, field
from typing import Callable

from ..core.approvals import Review, approvers
from ..core.problems import ModelregError

DEFAULT_API = "https://api.github.com"


@dataclass(frozen=True)
class Settings:
    repository: str
    token: str
    api_url: str = DEFAULT_API
    throttle: bool = True
    timeout: int = 30  # seconds per request; PyGithub retries timeouts and 5xx three times
    members_token: str | None = None  # can read organisation team membership; the Actions token cannot

    @classmethod
    def from_env(cls, repository: str | None = None) -> "Settings | None":
        """None when there is no token or repository: callers then skip what needs GitHub and say so.

        This module is the only place that reads GitHub settings from the environment;
        `repository` is the fallback when $GITHUB_REPOSITORY is unset (e.g. from origin's URL).
        """
        token = token_from_env()
        repository = os.environ.get("GITHUB_REPOSITORY") or repository
        if not token or not repository:
            return None
        return cls(repository, token, os.environ.get("GITHUB_API_URL") or DEFAULT_API,
                   os.environ.get("MODELREG_GITHUB_THROTTLE", "1") != "0",
                   int(os.environ.get("MODELREG_GITHUB_TIMEOUT", "30")),
                   os.environ.get("MODELREG_MEMBERS_TOKEN") or None)

    @property
    def web_url(self) -> str:
        server = os.environ.get("GITHUB_SERVER_URL") or "https://github.com"
        return f"{server}/{self.repository}"


@dataclass(frozen=True)
class ReleaseAsset:
    """A file a release must carry, known by its sha256 before its bytes are read.

    `name` must already be in GitHub's asset alphabet ([A-Za-z0-9._-], no leading or trailing period): GitHub
    renames anything else, and a rerun would then not find what it uploaded. `content` is called only when the
    asset has to be uploaded; it may raise ModelregError (the bytes are not where they should be).
    """

    name: str
    sha256: str
    content: Callable[[], bytes]
    content_type: str = "application/octet-stream"
    label: str = ""


@dataclass
class Attached:
    """What attach_assets did: per tag, what changed; plus warnings and the conflicts that must fail the run."""

    done: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def token_from_env() -> str | None:
    return os.environ.get("GITHUB_TOKEN") or os.environ.get("GH_TOKEN") or None


def repository_from_env() -> str | None:
    return os.environ.get("GITHUB_REPOSITORY") or None


def api_url_from_env() -> str:
    return os.environ.get("GITHUB_API_URL") or DEFAULT_API


def web_url_from_env() -> str | None:
    """https://github.com/OWNER/REPO of the repository Actions runs for, or None outside Actions."""
    repository = os.environ.get("GITHUB_REPOSITORY")
    if not repository:
        return None
    return f"{os.environ.get('GITHUB_SERVER_URL') or 'https://github.com'}/{repository}"


def from_env(repository: str | None = None) -> "GitHub | None":
    """A client from the environment's token and repository, or None when either is missing."""
    settings = Settings.from_env(repository)
    return GitHub(settings) if settings else None


class GitHub:
    def __init__(self, settings: Settings):
        self.settings = settings
        self.client = self._client(settings.token)
        self._members_client = self._client(settings.members_token) if settings.members_token else None
        self._repo = None
        self._members: dict[tuple[str, str, str], bool | None] = {}
        self._prs: dict[str, tuple[int | None, list[str]]] = {}
        self._releases: dict[str, object] | None = None  # tag -> GitRelease, as sync_releases left them

    def _client(self, token: str):
        from github import Auth, Github, GithubRetry

        settings = self.settings
        options = {} if settings.throttle else {"seconds_between_requests": 0, "seconds_between_writes": 0}
        return Github(base_url=settings.api_url, auth=Auth.Token(token), timeout=settings.timeout,
                      retry=GithubRetry(total=3, backoff_factor=0.5), **options)

    @property
    def repo(self):
        if self._repo is None:
            self._repo = self._call(lambda: self.client.get_repo(self.settings.repository),
                                    f"read repository {self.settings.repository}")
        return self._repo

    @staticmethod
    def _call(function, what: str):
        """Run one API interaction; GitHub's errors, timeouts and exhausted retries become a clear refusal."""
        from github import GithubException
        from requests.exceptions import RequestException

        try:
            return function()
        except GithubException as error:
            message = (error.data or {}).get("message") if isinstance(error.data, dict) else error.data
            raise ModelregError(f"GitHub API: could not {what}: {error.status} {message}") from None
        except RequestException as error:
            raise ModelregError(f"GitHub API: could not {what}: {type(error).__name__}: {error}; it is safe to "
                                "run again") from None

    def pull_request(self, number: int):
        return self._call(lambda: self.repo.get_pull(number), f"read pull request #{number}")

    def reviews(self, number: int) -> list[Review]:
        pull = self.pull_request(number)
        return self._call(lambda: [Review(r.user.login if r.user else "", r.state, r.commit_id)
                                   for r in pull.get_reviews()], f"read the reviews of #{number}")

    def is_member(self, org: str, slug: str, login: str) -> bool | None:
        """True for an active member of @org/slug, False otherwise, None when it cannot be known.

        The Actions GITHUB_TOKEN has no organisation "Members" permission, and
        GitHub answers its membership queries with 404 exactly as for a
        non-member; so membership is asked only with MODELREG_MEMBERS_TOKEN, and
        without it a team owner is reported as unverifiable, never as absent.
        """
        key = (org.lower(), slug.lower(), login.lower())
        if self._members_client is None:
            return None
        if key not in self._members:
            from github import GithubException

            try:
                team = self._members_client.get_organization(org).get_team_by_slug(slug)
                self._members[key] = team.get_team_membership(login).state == "active"
            except GithubException as error:
                if error.status != 404:
                    raise ModelregError(f"GitHub API: could not read membership of @{org}/{slug}: "
                                        f"{error.status}") from None
                self._members[key] = False
        return self._members[key]

    def pull_request_writers(self, number: int) -> tuple[set[str], list[str]]:
        """Logins of every author and committer of the PR's commits, and commits whose author is unknown.

        A commit whose author GitHub cannot link to an account (an e-mail address
        no account claims) cannot be checked against the approvers: it is listed.
        """
        pull = self.pull_request(number)
        writers, unknown = set(), []
        for commit in self._call(lambda: list(pull.get_commits()), f"read the commits of #{number}"):
            for role, who in (("author", commit.author), ("committer", commit.committer)):
                if who is not None and who.login:
                    writers.add(who.login)
                elif role == "author" or (commit.commit.committer.email or "") != "noreply@github.com":
                    unknown.append(commit.sha)
        return writers, sorted(set(unknown))

    def upsert_comment(self, number: int, marker: str, body: str) -> str:
        """Create the comment that carries `marker`, or update it in place: one sticky comment per PR."""
        issue = self._call(lambda: self.repo.get_issue(number), f"read #{number}")
        for comment in self._call(lambda: list(issue.get_comments()), f"read the comments of #{number}"):
            if marker in (comment.body or ""):
                if comment.body != body:
                    self._call(lambda: comment.edit(body), f"update the comment on #{number}")
                    return "updated"
                return "unchanged"
        self._call(lambda: issue.create_comment(body), f"comment on #{number}")
        return "created"

    def pull_request_for_commit(self, sha: str) -> tuple[int | None, list[str]]:
        """The merged pull request that made `sha`, and who approved it (from its reviews)."""
        if sha not in self._prs:
            commit = self._call(lambda: self.repo.get_commit(sha), f"read commit {sha[:12]}")
            pulls = self._call(lambda: [p for p in commit.get_pulls() if p.merged_at], f"find the PR of {sha[:12]}")
            if not pulls:
                self._prs[sha] = (None, [])
            else:
                number = pulls[0].number
                self._prs[sha] = (number, approvers(self.reviews(number)))
        return self._prs[sha]

    def sync_releases(self, wanted: dict[str, tuple[str, str]], drafts: set[str] = frozenset()) -> dict[str, str]:
        """Make the release of each tag have the given (title, body); one listing, writes only where needed.

        A new release for a tag in `drafts` is created as a draft: attach_assets gives it its assets, then
        publishes it (a repository with immutable releases takes no asset once a release is published). Any
        other release of a wanted tag that is still a draft is published here.
        """
        existing = self._list_releases()
        done = {}
        for tag, (title, body) in wanted.items():
            release = existing.get(tag)
            draft = tag in drafts
            if release is None:
                existing[tag] = self._call(lambda: self.repo.create_git_release(tag, title, body, draft=draft),
                                           f"create release {tag}")
                done[tag] = "created"
            elif release.body != body or release.name != title or (release.draft and not draft):
                keep = draft and release.draft  # a draft waiting for its assets stays one until they are there
                existing[tag] = self._call(lambda: release.update_release(title, body, draft=keep),
                                           f"update release {tag}")
                done[tag] = "updated"
            else:
                done[tag] = "unchanged"
        self._releases = existing
        return done

    def _list_releases(self) -> dict:
        """Every release of the repository by tag (one paginated listing)."""
        return {r.tag_name: r for r in self._call(lambda: list(self.repo.get_releases()), "list releases")}

    def attach_assets(self, assets: dict[str, ReleaseAsset]) -> Attached:
        """Make the release of each tag carry its asset, byte for byte; then publish it if it is a draft.

        Idempotent: an asset of that name with the same sha256 (GitHub's `digest`, or the downloaded bytes of an
        asset older than digests) is left alone. One of that name with other bytes is never replaced: it is a
        problem, and the run must fail. An incomplete upload (state other than "uploaded", which a 502 can leave
        behind; GitHub's docs say it can be deleted) is deleted and uploaded again. A published immutable release
        without the asset cannot get it any more: a warning. Run after sync_releases, whose listing it reuses.
        """
        result = Attached()
        releases = self._releases if self._releases is not None else self._list_releases()
        self._releases = releases
        for tag, asset in assets.items():
            release = releases.get(tag)
            if release is None:
                result.problems.append(f"release {tag} does not exist, so its asset {asset.name} was not attached")
                continue
            try:
                what = self._attach(tag, release, asset, result)
                if release.draft and what is not None:  # its asset is there: publish it
                    title, body = release.name or tag, release.body or ""
                    releases[tag] = self._call(lambda: release.update_release(title, body, draft=False),
                                               f"publish release {tag}")
                    what = f"{what}; published" if what else "published"
            except ModelregError as error:
                result.problems += [problem.message for problem in error.problems]
                continue
            if what:
                result.done[tag] = what
        return result

    def _attach(self, tag: str, release, asset: ReleaseAsset, result: Attached) -> str | None:
        """Upload `asset` to `release` unless it is there already; returns what changed ("" for nothing), or None
        when it could not be attached and the release must stay as it is."""
        from github import GithubException
        from requests.exceptions import RequestException

        present = [a for a in self._call(lambda: release.assets, f"read the assets of release {tag}")
                   if a.name == asset.name]
        note = ""
        for stale in [a for a in present if a.state != "uploaded"]:
            self._call(stale.delete_asset, f"delete the incomplete upload {asset.name} of release {tag}")
            present.remove(stale)
            note = "incomplete upload of the signature bundle deleted; "
        if present:
            self._same_or_refuse(tag, present[0], asset)
            return note
        data = asset.content()
        digest = hashlib.sha256(data).hexdigest()
        if digest != asset.sha256:
            raise ModelregError(f"the bytes meant for {asset.name} on release {tag} have sha256 {digest}, not the "
                                f"{asset.sha256} they must have: nothing was uploaded")
        try:
            uploaded = release.upload_asset_from_memory(io.BytesIO(data), len(data), asset.name,
                                                        content_type=asset.content_type, label=asset.label)
        except GithubException as error:
            body = error.data if isinstance(error.data, dict) else {}
            codes = {e.get("code") for e in body.get("errors") or [] if isinstance(e, dict)}
            if error.status == 422 and "already_exists" in codes:  # uploaded meanwhile, or listed incompletely
                found = self._call(lambda: [a for a in release.get_assets() if a.name == asset.name],
                                   f"list the assets of release {tag}")
                if found and found[0].state == "uploaded":
                    self._same_or_refuse(tag, found[0], asset)
                    return note
            if error.status == 422 and "immutable" in str(body.get("message", "")).lower():
                result.warnings.append(f"release {tag} is immutable and was published without {asset.name}; it "
                                       "cannot be attached any more (the bundle stays in the registry remote and its "
                                       "sha256 in the tag message)")
                return None
            message = body.get("message") if body else error.data
            raise ModelregError(f"GitHub API: could not upload {asset.name} to release {tag}: {error.status} "
                                f"{message}") from None
        except RequestException as error:  # a timeout or a dropped connection, as _call reports them
            raise ModelregError(f"GitHub API: could not upload {asset.name} to release {tag}: "
                                f"{type(error).__name__}: {error}; it is safe to run again") from None
        if uploaded.name != asset.name or (uploaded.digest and uploaded.digest != f"sha256:{asset.sha256}"):
            raise ModelregError(f"GitHub stored {asset.name} on release {tag} as {uploaded.name} with digest "
                                f"{uploaded.digest}, not as uploaded (sha256:{asset.sha256}); check the release")
        return f"{note}signature bundle attached ({asset.name})"

    def _same_or_refuse(self, tag: str, existing, asset: ReleaseAsset) -> None:
        """An asset of the wanted name is there: fine when its bytes are the wanted ones, else a refusal."""
        if (existing.digest or "").startswith("sha256:"):  # GitHub computes it for assets uploaded since June 2025
            theirs = existing.digest.removeprefix("sha256:").lower()
        else:  # an older asset: download and hash it
            def download() -> str:
                _, _, chunks = existing.download_asset(chunk_size=65536)
                digest = hashlib.sha256()
                for chunk in chunks:
                    digest.update(chunk)
                return digest.hexdigest()
            theirs = self._call(download, f"download {asset.name} of release {tag}")
        if theirs != asset.sha256:
            uploader = existing.uploader.login if existing.uploader is not None else "an unknown account"
            raise ModelregError(
                f"release {tag} already has an asset {asset.name} ({existing.size} bytes, sha256 {theirs}, uploaded "
                f"by {uploader}) that is not the one its tag names (sha256 {asset.sha256}); modelreg never replaces "
                "a release asset: find out where it came from, delete it if it is wrong, and run the release again "
                "to attach the right one")

    def open_pull_request(self, branch: str, base: str, title: str, body: str, owners: list[str]) -> str:
        pull = self._call(lambda: self.repo.create_pull(base=base, head=branch, title=title, body=body),
                          f"open a pull request from {branch}")
        users = [o.lstrip("@") for o in owners if "/" not in o]
        teams = [o.split("/", 1)[1] for o in owners if "/" in o]
        if users or teams:
            self._call(lambda: pull.create_review_request(reviewers=users, team_reviewers=teams),
                       f"request reviews on #{pull.number}")
        return pull.html_url
