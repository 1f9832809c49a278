#!/usr/bin/env python3
"""Posts kschema's plan on a pull request (GitHub) or merge request
(GitLab) as one comment, updated in place.

    kschema plan --format markdown > plan.md      # exit 2: changes, fine
    kschema plan --format json > plan.json
    python3 pr_comment.py --repo OWNER/NAME --pr 12 --body plan.md --plan plan.json
    python3 pr_comment.py --platform gitlab --repo "$CI_PROJECT_ID" \
        --pr "$CI_MERGE_REQUEST_IID" --body plan.md --plan plan.json

The comment carries a marker (an HTML comment); a later run finds the
comment with it and edits it instead of adding another. With --plan, the
script exits 1 when the plan holds a hazard the project blocks (apply would
refuse it), after posting, so the check fails with the reason on the PR.

GitHub: needs GITHUB_TOKEN (and GITHUB_API_URL on GitHub Enterprise).
GitLab: needs GITLAB_TOKEN, a project access token with the `api` scope
(the job token cannot write notes), and takes the API from CI_API_V4_URL;
--repo is the project's id or its path (group/name). --dry-run prints the
request instead of sending it; --comments FILE reads the comments (notes)
from a recorded API response instead of asking the API. Standard library
only.
"""

import argparse
import json
import os
import sys
import urllib.parse
import urllib.request

MARKER = "<!-- kschema-plan -->"


def existing_comment(comments):
    """The id of the comment this script wrote before, if any (the newest;
    GitLab's system notes are the server's, never ours)."""
    ours = [c for c in comments if MARKER in (c.get("body") or "") and not c.get("system")]
    return max(ours, key=lambda c: c["id"])["id"] if ours else None


class GitHub:
    def __init__(self, repo, pr):
        self.api = os.environ.get("GITHUB_API_URL", "https://api.github.com").rstrip("/")
        self.token = os.environ.get("GITHUB_TOKEN", "")
        self.token_name = "GITHUB_TOKEN"
        self.repo, self.pr = repo, pr
        self.where = f"{repo}#{pr}"

    def headers(self):
        return {"Authorization": f"Bearer {self.token}", "Accept": "application/vnd.github+json"}

    def comments_url(self, page):
        return f"{self.api}/repos/{self.repo}/issues/{self.pr}/comments?per_page=100&page={page}"

    def create(self):
        return "POST", f"{self.api}/repos/{self.repo}/issues/{self.pr}/comments"

    def update(self, found):
        return "PATCH", f"{self.api}/repos/{self.repo}/issues/comments/{found}"


class GitLab:
    def __init__(self, repo, pr):
        self.api = os.environ.get("CI_API_V4_URL", "https://gitlab.com/api/v4").rstrip("/")
        self.token = os.environ.get("GITLAB_TOKEN", "")
        self.token_name = "GITLAB_TOKEN"
        # A project path (group/name) goes in the URL encoded.
        self.project = urllib.parse.quote(str(repo), safe="")
        self.pr = pr
        self.where = f"{repo}!{pr}"

    def headers(self):
        return {"PRIVATE-TOKEN": self.token}

    def notes(self):
        return f"{self.api}/projects/{self.project}/merge_requests/{self.pr}/notes"

    def comments_url(self, page):
        return f"{self.notes()}?per_page=100&page={page}&sort=asc"

    def create(self):
        return "POST", self.notes()

    def update(self, found):
        return "PUT", f"{self.notes()}/{found}"


def request_for(platform, comments, body):
    """(method, url, payload): update our comment, or create it."""
    text = f"{MARKER}\n{body}"
    found = existing_comment(comments)
    method, url = platform.create() if found is None else platform.update(found)
    return method, url, {"body": text}


def blocked_hazards(plan):
    """Hazard kinds in the plan's steps that apply refuses without an allow."""
    blocked = set(plan["summary"]["blocked_hazards"])
    found = set()
    for target in plan["targets"]:
        for step in target["steps"]:
            allowed = set(step.get("allowed_by_annotation", []))
            for hazard in step["hazards"]:
                if hazard["kind"] in blocked and hazard["kind"] not in allowed:
                    found.add(hazard["kind"])
    return sorted(found)


def call(platform, method, url, payload=None):
    data = None if payload is None else json.dumps(payload).encode()
    headers = dict(platform.headers(), **{"Content-Type": "application/json"})
    req = urllib.request.Request(url, data=data, method=method, headers=headers)
    with urllib.request.urlopen(req) as response:
        return json.load(response)


def all_comments(platform):
    comments, page = [], 1
    while True:
        batch = call(platform, "GET", platform.comments_url(page))
        comments.extend(batch)
        if len(batch) < 100:
            return comments
        page += 1


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--platform", choices=["github", "gitlab"],
                        default="gitlab" if os.environ.get("GITLAB_CI") else "github")
    parser.add_argument("--repo", required=True, help="OWNER/NAME (GitLab: the project's id or path)")
    parser.add_argument("--pr", required=True, type=int, help="the pull request (GitLab: merge request iid)")
    parser.add_argument("--body", required=True, help="kschema plan --format markdown output")
    parser.add_argument("--plan", help="kschema plan --format json output: fail on blocked hazards")
    parser.add_argument("--dry-run", action="store_true", help="print the request instead of sending it")
    parser.add_argument("--comments", help="the PR's comments, as the API returns them (a recorded response)")
    args = parser.parse_args()

    platform = (GitLab if args.platform == "gitlab" else GitHub)(args.repo, args.pr)
    if not platform.token and not (args.dry_run and args.comments):
        sys.exit(f"{platform.token_name} is not set")
    with open(args.body, encoding="utf-8") as f:
        body = f.read()
    if args.comments:
        with open(args.comments, encoding="utf-8") as f:
            comments = json.load(f)
    else:
        comments = all_comments(platform)
    method, url, payload = request_for(platform, comments, body)
    if args.dry_run:
        print(f"{method} {url}")
        print(payload["body"])
    else:
        call(platform, method, url, payload)
        print(f"{'posted' if method == 'POST' else 'updated'} the plan comment on {platform.where}")

    if args.plan:
        with open(args.plan, encoding="utf-8") as f:
            blocked = blocked_hazards(json.load(f))
        if blocked:
            print(f"the plan holds hazards apply refuses without an allow: {', '.join(blocked)}", file=sys.stderr)
            sys.exit(1)


if __name__ == "__main__":
    main()
