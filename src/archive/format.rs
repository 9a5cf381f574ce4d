//! The backup formats daraa-ops reads, by name, and what each records to check documents
//! against.

use serde::Serialize;

/// What kind of backup a stream held.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SourceFormat {
    /// A daraa-ops `.tar.gz` with its manifest.
    Daraa,
    /// A daraa-ops `.archive.gz` (mongodump's archive format) checked against its sidecar.
    DaraaArchive,
    /// A mongodump `--out` folder, or a tar(.gz) of one.
    MongodumpDirectory,
    /// A mongodump `--archive` stream.
    MongodumpArchive,
}

/// What a backup records to check its documents against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Checksums {
    /// SHA-256 of every member in the manifest (and of the file in the sidecar).
    Sha256,
    /// CRC-64 of every collection's documents (mongodump's archive format).
    Crc64,
    /// Nothing: counts and structure only.
    None,
}

impl SourceFormat {
    pub fn describe(self) -> &'static str {
        match self {
            SourceFormat::Daraa => "daraa-ops archive",
            SourceFormat::DaraaArchive => "daraa-ops archive in mongodump's archive format",
            SourceFormat::MongodumpDirectory => "mongodump --out dump",
            SourceFormat::MongodumpArchive => "mongodump --archive",
        }
    }

    pub fn checksums(self) -> Checksums {
        match self {
            SourceFormat::Daraa | SourceFormat::DaraaArchive => Checksums::Sha256,
            SourceFormat::MongodumpArchive => Checksums::Crc64,
            SourceFormat::MongodumpDirectory => Checksums::None,
        }
    }

    /// The `format` of the manifest made for such a backup.
    pub(crate) fn manifest_format(self) -> &'static str {
        match self {
            SourceFormat::Daraa | SourceFormat::DaraaArchive => super::manifest::FORMAT,
            SourceFormat::MongodumpDirectory => "mongodump-directory",
            SourceFormat::MongodumpArchive => "mongodump-archive",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `verify` and `import` print, and the `format` an imported backup's manifest
    /// records (read back by every later command): one per format, none empty.
    #[test]
    fn every_format_says_what_it_is_and_what_its_manifest_records() {
        let table = [
            (
                SourceFormat::Daraa,
                "daraa-ops archive",
                super::super::manifest::FORMAT,
                Checksums::Sha256,
            ),
            (
                SourceFormat::DaraaArchive,
                "daraa-ops archive in mongodump's archive format",
                super::super::manifest::FORMAT,
                Checksums::Sha256,
            ),
            (
                SourceFormat::MongodumpDirectory,
                "mongodump --out dump",
                "mongodump-directory",
                Checksums::None,
            ),
            (
                SourceFormat::MongodumpArchive,
                "mongodump --archive",
                "mongodump-archive",
                Checksums::Crc64,
            ),
        ];
        for (format, describe, manifest, checksums) in table {
            assert_eq!(format.describe(), describe);
            assert_eq!(format.manifest_format(), manifest);
            assert_eq!(format.checksums(), checksums);
        }
        assert_eq!(super::super::manifest::FORMAT, "daraa-ops-backup");
    }
}
