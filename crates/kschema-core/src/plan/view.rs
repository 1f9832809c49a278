//! Statements for views: the author's text (`CREATE OR REPLACE VIEW …`) on
//! the files' search path, and `DROP VIEW` qualified.

use crate::model::View;
use crate::sql::Sql;

pub(super) fn create_view(view: &View) -> Sql {
    Sql::new().text(&view.sql)
}

pub(super) fn drop_view(view: &View) -> Sql {
    Sql::new()
        .text(format!("DROP {} ", view.noun().to_uppercase()))
        .qualified(&view.name)
}
