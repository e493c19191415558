"""The fake GitHub behaves as GitHub's REST docs say, seen through real PyGithub.

A fake kinder than GitHub hides bugs: these tests pin the unkind parts (pagination,
token permissions, 401/403/404/422 answers, pending memberships, dismissals).
"""

from __future__ import annotations

import github
import pytest
import requests
from fake_github import FakeGitHub
from github import Auth, Github, GithubException, GithubRetry

REPO = "Codertocat/Hello-World"
HEAD, BASE = "a" * 40, "b" * 40


def client(fake: FakeGitHub, token: str | None = "t0ken", **options) -> Github:
    return Github(base_url=fake.base_url, auth=Auth.Token(token) if token else None, retry=options.pop("retry", None),
                  seconds_between_requests=0, seconds_between_writes=0, **options)


def gets(fake: FakeGitHub, suffix: str) -> list[dict]:
    """The query parameters of every GET whose path ends with `suffix`."""
    return [query for method, path, query, _ in fake.calls if method == "GET" and path.endswith(suffix)]


@pytest.fixture
def pr(fake):
    fake.add_pull(1, HEAD, BASE, "alice", "promote")
    return fake.pulls[1]


# ---- 1. pagination ----

def test_65_reviews_are_listed_completely_through_3_pages(fake, pr):
    ids = [fake.review(1, f"user{i}", "COMMENTED", HEAD) for i in range(65)]
    reviews = list(client(fake).get_repo(REPO).get_pull(1).get_reviews())
    assert [r.id for r in reviews] == ids
    assert [q.get("page") for q in gets(fake, "/pulls/1/reviews")] == [None, "2", "3"]
    # pages after the first follow the Link header, which names the repository by id as GitHub does
    assert [p for m, p in fake.requests if p.endswith("/reviews")][1:] == ["/repositories/1296269/pulls/1/reviews"] * 2


def test_link_header_has_githubs_exact_format(fake, pr):
    for i in range(65):
        fake.review(1, f"user{i}", "COMMENTED", HEAD)
    url = f"{fake.base_url}/repos/{REPO}/pulls/1/reviews"
    auth = {"Authorization": "Bearer t0ken"}
    middle = requests.get(url, params={"per_page": 10, "page": 3}, headers=auth)
    link = f"{fake.base_url}/repositories/1296269/pulls/1/reviews?per_page=10&page="
    assert len(middle.json()) == 10
    assert middle.headers["Link"] == (f'<{link}2>; rel="prev", <{link}4>; rel="next", '
                                      f'<{link}7>; rel="last", <{link}1>; rel="first"')
    first = requests.get(url, headers=auth)
    link = f"{fake.base_url}/repositories/1296269/pulls/1/reviews?page="
    assert len(first.json()) == 30 and first.headers["Link"] == f'<{link}2>; rel="next", <{link}3>; rel="last"'
    final = requests.get(url, params={"page": 3}, headers=auth)
    assert len(final.json()) == 5 and final.headers["Link"] == f'<{link}2>; rel="prev", <{link}1>; rel="first"'
    assert "Link" not in requests.get(url, params={"per_page": 100}, headers=auth).headers  # one page: no header
    for i in range(65, 130):
        fake.review(1, f"user{i}", "COMMENTED", HEAD)
    assert len(requests.get(url, params={"per_page": 500}, headers=auth).json()) == 100  # at most 100


def test_every_list_endpoint_paginates(fake, pr):
    for i in range(31):
        fake.comments[5000 + i] = {"id": 5000 + i, "body": str(i), "user": fake.user("x"), "_issue": 1,
                                   "url": f"{fake.repo_url}/issues/comments/{5000 + i}"}
        fake.add_pull(100 + i, HEAD, BASE, "alice", f"b{i}")
        fake.releases[f"v{i}"] = {"id": 7000 + i, "tag_name": f"v{i}", "url": f"{fake.repo_url}/releases/{7000 + i}"}
        fake.add_commit(1, f"{i:040x}", "alice", "web-flow")
    fake.commit_pulls[HEAD] = list(range(100, 131))
    repo = client(fake).get_repo(REPO)
    assert len(list(repo.get_issue(1).get_comments())) == 31
    assert len(list(repo.get_commit(HEAD).get_pulls())) == 31
    assert len(list(repo.get_releases())) == 31
    assert len(list(repo.get_pull(1).get_commits())) == 31
    for suffix in ("/issues/1/comments", f"/commits/{HEAD}/pulls", "/releases", "/pulls/1/commits"):
        assert [q.get("page") for q in gets(fake, suffix)] == [None, "2"], suffix


# ---- 2. tokens and their permissions ----

def test_actions_token_cannot_see_team_memberships(fake):
    team = client(fake).get_organization("acme").get_team_by_slug  # GET /orgs/acme is public: 200
    with pytest.raises(GithubException) as refused:
        team("ml-leads")
    assert refused.value.status == 404 and refused.value.data["message"] == "Not Found"
    with pytest.raises(GithubException) as refused:  # lazy=True: the /orgs/{org}/teams/{slug}/memberships form
        client(fake, lazy=True).get_organization("acme").get_team_by_slug("ml-leads").get_team_membership("bob")
    assert refused.value.status == 404


def test_fork_token_cannot_write_and_that_is_not_a_rate_limit(fake, pr):
    issue = client(fake, "fork-t0ken").get_repo(REPO).get_issue(1)  # reading is allowed
    with pytest.raises(GithubException) as refused:
        issue.create_comment("hello")
    assert not isinstance(refused.value, github.RateLimitExceededException)
    assert refused.value.status == 403
    assert refused.value.data["message"] == "Resource not accessible by integration"
    assert not any(h.lower().startswith(("x-ratelimit", "retry-after")) for h in refused.value.headers)
    assert fake.comments == {}


def test_members_token_reads_teams_but_not_writes(fake, pr):
    gh = client(fake, "members-t0ken")
    assert gh.get_organization("acme").get_team_by_slug("ml-leads").get_team_membership("bob").state == "active"
    with pytest.raises(GithubException) as refused:
        gh.get_repo(REPO).get_issue(1).create_comment("hello")
    assert refused.value.status == 403


@pytest.mark.parametrize("token", ["wr0ng", None])
def test_unknown_or_missing_token_is_401(fake, token):
    with pytest.raises(github.BadCredentialsException) as refused:
        client(fake, token).get_repo(REPO)
    assert refused.value.status == 401 and refused.value.data["message"] == "Bad credentials"


def test_authorization_token_and_bearer_schemes(fake):
    for header in ("token t0ken", "Bearer t0ken"):
        assert requests.get(f"{fake.base_url}/repos/{REPO}", headers={"Authorization": header}).status_code == 200


# ---- 3. rate-limit 403 versus permission 403 ----

def test_injected_rate_limit_is_a_rate_limit(fake, pr):
    fake.failures.append(("GET", rf"/repos/{REPO}/pulls/1", 403))
    with pytest.raises(github.RateLimitExceededException) as limited:
        client(fake).get_repo(REPO).get_pull(1)
    assert limited.value.headers["x-ratelimit-remaining"] == "0"
    assert limited.value.headers["x-ratelimit-reset"].isdigit()
    assert limited.value.data["message"].startswith("API rate limit exceeded")


def test_injected_permission_403_is_not_a_rate_limit(fake, pr):
    fake.failures.append(("GET", rf"/repos/{REPO}/pulls/1", 403, {}, 0, "permission"))
    with pytest.raises(GithubException) as refused:
        client(fake).get_repo(REPO).get_pull(1)
    assert not isinstance(refused.value, github.RateLimitExceededException)
    assert refused.value.data["message"] == "Resource not accessible by integration"
    assert "x-ratelimit-remaining" not in refused.value.headers


def test_pygithub_retries_a_rate_limit_but_not_a_permission_403(fake, pr):
    path = f"/repos/{REPO}/pulls/1"
    retrying = client(fake, retry=GithubRetry(total=2)).get_repo(REPO)
    fake.failures.append(("GET", path, 403))
    assert retrying.get_pull(1).number == 1  # slept until x-ratelimit-reset (now) + 1 s, then read it
    assert fake.requests.count(("GET", path)) == 2
    fake.failures.append(("GET", path, 403, {}, 0, "permission"))
    with pytest.raises(GithubException):
        retrying.get_pull(1)
    assert fake.requests.count(("GET", path)) == 3  # asked once, refused at once


# ---- 4. team memberships with state ----

def test_team_membership_is_active_pending_or_404_in_both_url_forms(fake):
    fake.pending[("acme", "ml-leads")] = {"carol"}
    for lazy, form in ((False, "/organizations/"), (True, "/orgs/acme/teams/ml-leads/")):
        team = client(fake, "members-t0ken", lazy=lazy).get_organization("acme").get_team_by_slug("ml-leads")
        assert team.get_team_membership("bob").state == "active"
        assert team.get_team_membership("carol").state == "pending"
        with pytest.raises(github.UnknownObjectException):
            team.get_team_membership("mallory")
        assert fake.requests[-1][1].startswith(form) and fake.requests[-1][1].endswith("/memberships/mallory")


# ---- 5. dismissals ----

def test_dismissal_keeps_the_id_and_changes_the_state(fake, pr):
    approved = fake.review(1, "bob", "APPROVED", HEAD)
    (review,) = client(fake).get_repo(REPO).get_pull(1).get_reviews()
    review.dismiss("stale")
    assert (review.id, review.state, review.commit_id) == (approved, "DISMISSED", HEAD)
    assert [(r["id"], r["state"]) for r in fake.reviews[1]] == [(approved, "DISMISSED")]
    other = fake.review(1, "carol", "CHANGES_REQUESTED", HEAD)
    assert fake.dismiss(1, other)["id"] == other and len(fake.reviews[1]) == 2


# ---- 6. PR commits ----

def test_pr_commits_carry_git_identities_and_nullable_accounts(fake, pr):
    fake.add_commit(1, "1" * 40, "alice", "web-flow", "first")
    fake.add_commit(1, "2" * 40, None, None, "from an unlinked e-mail")
    commits = list(client(fake).get_repo(REPO).get_pull(1).get_commits())
    assert [c.sha for c in commits] == ["1" * 40, "2" * 40]
    assert (commits[0].author.login, commits[0].committer.login) == ("alice", "web-flow")
    assert commits[1].author is None and commits[1].committer is None
    assert commits[1].commit.author.name and commits[1].commit.message == "from an unlinked e-mail"
    assert commits[0].commit.committer.email == "noreply@github.com"  # web-flow's git identity
    assert fake.pulls[1]["commits"] == 2


def test_pr_commits_stop_at_250(fake, pr):
    for i in range(260):
        fake.add_commit(1, f"{i:040x}", "alice", "alice")
    assert len(list(client(fake, per_page=100).get_repo(REPO).get_pull(1).get_commits())) == 250


# ---- 7. 422s ----

def test_a_second_pull_request_for_the_same_head_and_base_is_422(fake):
    repo = client(fake).get_repo(REPO)
    assert repo.create_pull(base="main", head="promote", title="t", body="b").number == 1
    with pytest.raises(GithubException) as refused:
        repo.create_pull(base="main", head="promote", title="t", body="b")
    assert refused.value.status == 422 and refused.value.data["message"] == "Validation Failed"
    assert refused.value.data["errors"] == [{"resource": "PullRequest", "code": "custom",
                                             "message": "A pull request already exists for Codertocat:promote."}]
    assert repo.create_pull(base="release", head="promote", title="t", body="b").number == 2  # another base


def test_requesting_a_review_from_the_author_is_422(fake, pr):
    pull = client(fake).get_repo(REPO).get_pull(1)
    with pytest.raises(GithubException) as refused:
        pull.create_review_request(reviewers=["alice"])
    assert refused.value.status == 422
    assert refused.value.data["message"] == "Review cannot be requested from pull request author."
    pull.create_review_request(reviewers=["bob"], team_reviewers=["ml-leads"])
    users, teams = pull.get_review_requests()
    assert [u.login for u in users] == ["bob"] and [t.slug for t in teams] == ["ml-leads"]
    fake.review(1, "bob", "APPROVED", HEAD)  # a reviewer who reviews is no longer requested
    assert fake.pulls[1]["requested_reviewers"] == []
