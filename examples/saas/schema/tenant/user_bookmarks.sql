CREATE TABLE user_bookmarks (
    id SERIAL PRIMARY KEY,
    user_id UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    bookmark_type VARCHAR(50) NOT NULL,
    bookmark_data JSONB NOT NULL,
    created_at TIMESTAMP NOT NULL DEFAULT NOW(),
    updated_at TIMESTAMP NOT NULL DEFAULT NOW()
);

-- A user sees only their own bookmarks (the application sets app.user_id
-- per request).
CREATE POLICY own_bookmarks ON user_bookmarks
    USING (user_id::text = current_setting('app.user_id', true));
ALTER TABLE user_bookmarks ENABLE ROW LEVEL SECURITY;
COMMENT ON POLICY own_bookmarks ON user_bookmarks IS 'Each user sees their own bookmarks (app.user_id).';
