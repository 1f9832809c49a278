-- What the application may do in every tenant's schema.
GRANT SELECT, INSERT, UPDATE, DELETE
    ON users, projects, project_users, roles, permissions, notifications, trial_shares, user_bookmarks
    TO app;
GRANT SELECT ON active_project_members TO app;
