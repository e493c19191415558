"""What the GitHub workflows run: the pull request check and the release on main."""
