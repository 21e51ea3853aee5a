//! `--hidden`, `--follow` and `--max-file-size`: how inputs are found and
//! how large one may be, shared by every subcommand that reads logs.

use crate::ingest::ReadOptions;
use crate::ingest::file::DEFAULT_MAX_FILE_SIZE;

#[derive(Debug, Clone, clap::Args)]
pub struct ReadArgs {
    /// Read hidden files and folders (names starting with `.`) in walked
    /// directories; by default they are counted and passed over.
    #[arg(long)]
    pub hidden: bool,

    /// Follow symbolic links in walked directories (each folder is walked
    /// once, so link loops end); by default links are counted and passed over.
    #[arg(long, short = 'L')]
    pub follow: bool,

    /// The most one input may hold once decompressed (bytes, or with K, M,
    /// G): a larger file or object is reported as too large and not read.
    #[arg(long, value_name = "SIZE", value_parser = parse_size, default_value = "1G")]
    pub max_file_size: u64,
}

impl Default for ReadArgs {
    fn default() -> Self {
        ReadArgs {
            hidden: false,
            follow: false,
            max_file_size: DEFAULT_MAX_FILE_SIZE,
        }
    }
}

impl ReadArgs {
    pub fn options(&self) -> ReadOptions {
        ReadOptions {
            hidden: self.hidden,
            follow: self.follow,
            max_file_size: self.max_file_size,
        }
    }
}

/// `1073741824`, `512K`, `64M`, `1G` (binary multiples; `KiB`, `MB`… too).
fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let digits = t.bytes().take_while(u8::is_ascii_digit).count();
    let (num, unit) = t.split_at(digits);
    let n: u64 = num
        .parse()
        .map_err(|_| format!("`{s}` is not a size (bytes, or a number with K, M or G)"))?;
    let shift = match unit.trim().to_ascii_uppercase().as_str() {
        "" | "B" => 0,
        "K" | "KB" | "KIB" => 10,
        "M" | "MB" | "MIB" => 20,
        "G" | "GB" | "GIB" => 30,
        "T" | "TB" | "TIB" => 40,
        _ => return Err(format!("`{s}`: unknown unit `{unit}` (use K, M or G)")),
    };
    n.checked_mul(1 << shift)
        .filter(|&v| v > 0)
        .ok_or_else(|| format!("`{s}` is not a usable size"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn sizes() {
        use super::parse_size;
        assert_eq!(parse_size("1G"), Ok(1 << 30));
        assert_eq!(parse_size("512k"), Ok(512 << 10));
        assert_eq!(parse_size("64MiB"), Ok(64 << 20));
        assert_eq!(parse_size("1000"), Ok(1000));
        assert!(parse_size("0").is_err());
        assert!(parse_size("lots").is_err());
        assert!(parse_size("5X").is_err());
    }
}
