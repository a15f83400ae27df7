//! What a newcomer hit (issue 13, section 2): each item through the CLI or
//! the library.

mod cli_support;
