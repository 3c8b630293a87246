//! What an outlet publishes, read without any network: an article page
//! (`page`), a feed of articles (`feed`), the canonical form of their
//! addresses (`link`), and whether a page's new text is a new version or
//! the same text in new chrome (`change`). The poller that fetches them
//! lives outside the domain.

pub mod change;
pub mod charset;
pub mod feed;
pub mod link;
pub mod page;
