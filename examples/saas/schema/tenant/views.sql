-- Reporting: members per active project.
CREATE VIEW active_project_members AS
    SELECT p.id, p.name, count(pu.user_id) AS members
      FROM projects p
      LEFT JOIN project_users pu ON pu.project_id = p.id
     WHERE p.status = 'ACTIVE'
     GROUP BY p.id, p.name;
COMMENT ON VIEW active_project_members IS 'Reporting: how many members each active project has.';
