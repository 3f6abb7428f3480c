//! Configuration errors: every one names the file, the line and column, the key path and what
//! is allowed.

use std::fmt;
use std::path::PathBuf;

/// A 1-based line and column (columns count characters, not bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Location {
    /// Line, starting at 1.
    pub line: usize,
    /// Column, starting at 1.
    pub column: usize,
}

impl Location {
    /// The location of byte offset `offset` in `src` (clamped to the text).
    pub fn of_offset(src: &str, offset: usize) -> Self {
        let mut offset = offset.min(src.len());
        while !src.is_char_boundary(offset) {
            offset -= 1;
        }
        let before = src.get(..offset).unwrap_or("");
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        Location {
            line: before.matches('\n').count() + 1,
            column: before.get(line_start..).unwrap_or("").chars().count() + 1,
        }
    }
}

/// One problem in a configuration file. `Display` gives
/// `FILE:LINE:COLUMN: KEY.PATH: MESSAGE` (parts that do not apply are left out).
/// Messages never contain secret values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The file the problem is in (as given to the loader).
    pub file: PathBuf,
    /// Where in the file; `None` when the file as a whole is at fault (e.g. unreadable).
    pub location: Option<Location>,
    /// The key path, e.g. `connections.net2net.children.net.local_ts[1]`; empty for syntax
    /// errors and whole-file problems.
    pub key: String,
    /// What is wrong and what is allowed.
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(l) = self.location {
            write!(f, ":{}:{}", l.line, l.column)?;
        }
        if !self.key.is_empty() {
            write!(f, ": {}", self.key)?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for ConfigError {}

/// All problems found in one configuration file, in file order (one per line in `Display`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigErrors {
    /// The problems; never empty when returned as an error.
    pub errors: Vec<ConfigError>,
}

impl ConfigErrors {
    /// The rendered messages, one string per problem.
    pub fn messages(&self) -> Vec<String> {
        self.errors.iter().map(ToString::to_string).collect()
    }
}

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.errors.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

impl From<ConfigError> for ConfigErrors {
    fn from(e: ConfigError) -> Self {
        ConfigErrors { errors: vec![e] }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_to_lines_and_columns() {
        let src = "a = 1\nbé = \"x\"\n";
        assert_eq!(Location::of_offset(src, 0), Location { line: 1, column: 1 });
        assert_eq!(Location::of_offset(src, 6), Location { line: 2, column: 1 });
        // 'é' is two bytes but one column.
        assert_eq!(
            Location::of_offset(src, 11),
            Location { line: 2, column: 5 }
        );
        // Inside a multi-byte character and past the end: clamped, no panic.
        assert_eq!(Location::of_offset(src, 8), Location { line: 2, column: 2 });
        assert_eq!(Location::of_offset(src, 999).line, 3);
    }

    #[test]
    fn display_format() {
        let e = ConfigError {
            file: "rampart.toml".into(),
            location: Some(Location {
                line: 14,
                column: 13,
            }),
            key: "connections.a.proposals[0]".into(),
            message: "bad".into(),
        };
        assert_eq!(
            e.to_string(),
            "rampart.toml:14:13: connections.a.proposals[0]: bad"
        );
        let e = ConfigError {
            location: None,
            key: String::new(),
            ..e
        };
        assert_eq!(e.to_string(), "rampart.toml: bad");
    }
}
