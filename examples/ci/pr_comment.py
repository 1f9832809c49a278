#!/usr/bin/env python3
"""Posts kschema's plan on a pull request as one comment, updated in place.

    kschema plan --format markdown > plan.md      # exit 2: changes, fine
    kschema plan --format json > plan.json
    python3 pr_comment.py --repo OWNER/NAME --pr 12 --body plan.md --plan plan.json

The comment carries a marker (an HTML comment); a later run finds the
comment with it and edits it instead of adding another. With --plan, the
script exits 1 when the plan holds a hazard the project blocks (apply would
refuse it), after posting, so the check fails with the reason on the PR.

Needs GITHUB_TOKEN (and GITHUB_API_URL on GitHub Enterprise). --dry-run
prints the request instead of sending it; --comments FILE reads the PR's
comments from a recorded API response instead of asking the API.
Standard library only.
"""

import argparse
import json
import os
import sys
import urllib.request

MARKER = "<!-- kschema-plan -->"


def existing_comment(comments):
    """The id of the comment this script wrote before, if any (the newest)."""
    ours = [c for c in comments if MARKER in (c.get("body") or "")]
    return ours[-1]["id"] if ours else None


def request_for(api, repo, pr, comments, body):
    """(method, url, payload): update our comment, or create it."""
    text = f"{MARKER}\n{body}"
    found = existing_comment(comments)
    if found is None:
        return "POST", f"{api}/repos/{repo}/issues/{pr}/comments", {"body": text}
    return "PATCH", f"{api}/repos/{repo}/issues/comments/{found}", {"body": text}


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


def call(method, url, token, payload=None):
    data = None if payload is None else json.dumps(payload).encode()
    req = urllib.request.Request(url, data=data, method=method, headers={
        "Authorization": f"Bearer {token}",
        "Accept": "application/vnd.github+json",
        "Content-Type": "application/json",
    })
    with urllib.request.urlopen(req) as response:
        return json.load(response)


def all_comments(api, repo, pr, token):
    comments, page = [], 1
    while True:
        batch = call("GET", f"{api}/repos/{repo}/issues/{pr}/comments?per_page=100&page={page}", token)
        comments.extend(batch)
        if len(batch) < 100:
            return comments
        page += 1


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repo", required=True, help="OWNER/NAME")
    parser.add_argument("--pr", required=True, type=int)
    parser.add_argument("--body", required=True, help="kschema plan --format markdown output")
    parser.add_argument("--plan", help="kschema plan --format json output: fail on blocked hazards")
    parser.add_argument("--dry-run", action="store_true", help="print the request instead of sending it")
    parser.add_argument("--comments", help="the PR's comments, as the API returns them (a recorded response)")
    args = parser.parse_args()

    api = os.environ.get("GITHUB_API_URL", "https://api.github.com").rstrip("/")
    token = os.environ.get("GITHUB_TOKEN", "")
    if not token and not (args.dry_run and args.comments):
        sys.exit("GITHUB_TOKEN is not set")
    with open(args.body, encoding="utf-8") as f:
        body = f.read()
    if args.comments:
        with open(args.comments, encoding="utf-8") as f:
            comments = json.load(f)
    else:
        comments = all_comments(api, args.repo, args.pr, token)
    method, url, payload = request_for(api, args.repo, args.pr, comments, body)
    if args.dry_run:
        print(f"{method} {url}")
        print(payload["body"])
    else:
        call(method, url, token, payload)
        print(f"{'updated' if method == 'PATCH' else 'posted'} the plan comment on {args.repo}#{args.pr}")

    if args.plan:
        with open(args.plan, encoding="utf-8") as f:
            blocked = blocked_hazards(json.load(f))
        if blocked:
            print(f"the plan holds hazards apply refuses without an allow: {', '.join(blocked)}", file=sys.stderr)
            sys.exit(1)


if __name__ == "__main__":
    main()
