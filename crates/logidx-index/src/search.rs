//! Search, count and show: the text query runs over distinct texts, the filters over steps,
//! and each step's stored sequence turns matching text ids into lines.

mod attempts;
mod collect;
mod count;
mod errors;
mod hits;
mod matching;
mod show;
mod text_set;
mod texts;

pub use count::{Counts, GroupBy, GroupPlace};
pub use errors::{ErrorGroup, Sighting};
pub use hits::{ContextLine, Hit, line_url};
pub use show::{Selection, ShownStep};
