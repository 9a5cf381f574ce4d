//! `mask check`: samples every collection (of the live database, or of a backup) and lists the
//! fields whose values look like personal data, with the masking rule that covers each. A
//! field no rule covers fails the check, so a schema change that adds personal data turns the
//! CI drill red before it reaches a staging copy.

use std::collections::BTreeMap;

use bson::{RawBsonRef, RawDocument};
use serde::Serialize;

use super::detect::{self, Kind};
use crate::config::MaskingConfig;
use crate::mongo;

/// One field that held personal-looking values.
#[derive(Debug, Clone, Serialize)]
pub struct FieldFinding {
    /// Dotted path; arrays add no segment (as in masking rules and MongoDB queries).
    pub field: String,
    pub kind: Kind,
    /// Inside free text (`"call +963 …"`) rather than the whole value.
    pub embedded: bool,
    /// Values found (a document may hold several: arrays, text with two numbers).
    pub values: u64,
    /// Sampled documents holding at least one: at most the collection's `sampled`.
    pub documents: u64,
    /// What masks it: `<rule>` at the field, `<rule> on <path>` at a parent, or `scan` (the
    /// masked restore's free-text scan, which replaces e-mail addresses, phone, card and
    /// IBAN numbers in every string no rule covers); none: nothing would mask it.
    pub rule: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CollectionFindings {
    pub name: String,
    pub sampled: u64,
    /// Neither rules under `masking.collections` nor in `masking.copy_as_is`: a masked
    /// restore refuses the backup until it is.
    pub unconfigured: bool,
    pub fields: Vec<FieldFinding>,
}

/// Per (field path, kind, embedded): values and documents.
type Found = BTreeMap<(String, Kind, bool), (u64, u64)>;

/// Collects samples, then reports.
#[derive(Debug, Default)]
pub struct Scanner {
    /// Per collection: documents sampled, and what was found.
    collections: BTreeMap<String, (u64, Found)>,
}

impl Scanner {
    /// Documents sampled so far from `collection`.
    pub fn sampled(&self, collection: &str) -> u64 {
        self.collections.get(collection).map_or(0, |c| c.0)
    }

    pub fn add(&mut self, collection: &str, doc: &RawDocument) {
        let entry = self.collections.entry(collection.to_owned()).or_default();
        entry.0 += 1;
        let mut seen = Found::new();
        walk(collection, "", doc, &mut seen);
        for (key, (values, _)) in seen {
            let e = entry.1.entry(key).or_default();
            e.0 += values;
            e.1 += 1;
        }
    }

    /// Every collection seen (also those without findings), with the covering rules.
    pub fn report(self, cfg: &MaskingConfig) -> Vec<CollectionFindings> {
        self.collections
            .into_iter()
            .map(|(name, (sampled, found))| {
                let fields = found
                    .into_iter()
                    .map(|((field, kind, embedded), (values, documents))| FieldFinding {
                        rule: covering_rule(cfg, &name, &field)
                            .or_else(|| scanned(kind).then(|| "scan".to_owned())),
                        field,
                        kind,
                        embedded,
                        values,
                        documents,
                    })
                    .collect();
                let unconfigured =
                    !cfg.collections.contains_key(&name) && !cfg.copy_as_is.contains(&name);
                CollectionFindings { name, sampled, unconfigured, fields }
            })
            .collect()
    }
}

/// Kinds the free-text scan finds, whole or inside text (names and points need a rule).
fn scanned(kind: Kind) -> bool {
    matches!(kind, Kind::Email | Kind::Phone | Kind::CardNumber | Kind::Iban)
}

fn walk(collection: &str, prefix: &str, doc: &RawDocument, out: &mut Found) {
    for element in doc {
        let Ok((key, value)) = element else { continue };
        let key = key.as_str();
        let path = if prefix.is_empty() { key.to_owned() } else { format!("{prefix}.{key}") };
        visit(collection, key, &path, value, out);
    }
}

fn visit(collection: &str, key: &str, path: &str, value: RawBsonRef<'_>, out: &mut Found) {
    if let Some(kind) = detect::classify(collection, key, value) {
        out.entry((path.to_owned(), kind, false)).or_default().0 += 1;
        return;
    }
    match value {
        RawBsonRef::String(s) => {
            for f in super::scan::find(s) {
                out.entry((path.to_owned(), f.kind, true)).or_default().0 += 1;
            }
        }
        RawBsonRef::Document(d) => walk(collection, path, d, out),
        RawBsonRef::Array(items) => {
            for item in items.into_iter().flatten() {
                visit(collection, key, path, item, out);
            }
        }
        _ => {}
    }
}

/// The rule at `field` or at one of its parents (a `remove` of `address` covers
/// `address.street`).
fn covering_rule(cfg: &MaskingConfig, collection: &str, field: &str) -> Option<String> {
    let rules = cfg.collections.get(collection)?;
    if let Some(spec) = rules.get(field) {
        return Some(super::Rule::from_spec(spec).name().to_owned());
    }
    rules.iter().find_map(|(path, spec)| {
        field
            .strip_prefix(path.as_str())
            .is_some_and(|rest| rest.starts_with('.'))
            .then(|| format!("{} on {path}", super::Rule::from_spec(spec).name()))
    })
}

/// Samples the first `sample` documents of every collection of the configured database (not
/// views), connected as the backup job (it reads what a backup reads).
pub async fn sample_live(cfg: &crate::config::Config, sample: u64) -> anyhow::Result<Scanner> {
    use futures_util::TryStreamExt as _;
    use mongo::privileges::Job;
    let mongo =
        mongo::connect(&cfg.mongodb, mongo::Role::Job(Job::Backup), mongo::Access::ReadOnly)
            .await?;
    let db = mongo.client.database(&cfg.mongodb.database);
    let mut scanner = Scanner::default();
    for spec in mongo::dump::list_collections(&db).await? {
        if spec.is_view() {
            continue;
        }
        let mut cursor = db
            .collection::<bson::RawDocumentBuf>(&spec.name)
            .find(bson::doc! {})
            .limit(i64::try_from(sample).unwrap_or(i64::MAX))
            .await?;
        scanner.collections.entry(spec.name.clone()).or_default();
        while let Some(doc) = cursor.try_next().await? {
            scanner.add(&spec.name, &doc);
        }
    }
    Ok(scanner)
}

/// The first `sample` documents of every collection in the archive `input` holds (any format
/// `walk` reads), every collection listed, also empty ones; read to its end, so verified too.
fn sample_archive(
    input: impl std::io::Read + Send,
    expected: Option<&crate::archive::Manifest>,
    sample: u64,
) -> Result<Scanner, crate::archive::ArchiveError> {
    use crate::archive::{Event, walk};
    let mut scanner = Scanner::default();
    walk::walk(input, expected, true, |ev| {
        match ev {
            Event::DataStart { collection } => {
                scanner.collections.entry(collection).or_default();
            }
            Event::Batch { collection, docs } => {
                for d in docs {
                    if scanner.sampled(&collection) >= sample {
                        break;
                    }
                    scanner.add(&collection, &d);
                }
            }
            _ => {}
        }
        Ok(())
    })?;
    Ok(scanner)
}

/// Samples the first `sample` documents of every collection of a backup (read to its end, so
/// it is verified too).
pub async fn sample_backup(
    source: &crate::repo::Resolved,
    sample: u64,
    cancel: &tokio_util::sync::CancellationToken,
) -> anyhow::Result<Scanner> {
    let input = source.reader().await?;
    let expected = source.sidecar.as_ref().map(|s| s.manifest.clone());
    let walk_cancel = cancel.clone();
    let walked = tokio::task::spawn_blocking(move || {
        let input = crate::signal::CancelReader::new(input, walk_cancel);
        sample_archive(input, expected.as_ref(), sample)
    })
    .await?;
    walked.map_err(|e| {
        source.archive_error(
            e,
            cancel,
            "this backup cannot be checked; try another (`daraa-ops list`)",
        )
    })
}

#[cfg(test)]
mod tests {
    use bson::{RawDocumentBuf, doc};
    use std::collections::BTreeSet;

    use super::*;
    use crate::config::{MaskKind, MaskRuleSpec};

    /// A finding as (field, kind, embedded, values, documents, rule).
    type Row = (String, Kind, bool, u64, u64, Option<String>);

    fn raw(d: &bson::Document) -> RawDocumentBuf {
        RawDocumentBuf::try_from(d).unwrap()
    }

    /// What `mask check` reports, field by field: values and documents counted per sampled
    /// document, arrays adding no path segment, nested documents walked, text scanned for
    /// embedded values, and each field's covering rule: at the field, at a parent, the free-text
    /// scan, or none; collections without rules are `unconfigured` unless copied as they are.
    #[test]
    fn findings_are_counted_per_field_with_the_rule_that_covers_them() {
        let mut cfg = MaskingConfig::default();
        let rules = |pairs: &[(&str, MaskKind)]| {
            pairs.iter().map(|(p, k)| ((*p).to_owned(), MaskRuleSpec::Short(*k))).collect()
        };
        cfg.collections.insert(
            "users".into(),
            rules(&[("email", MaskKind::Hash), ("address", MaskKind::Remove)]),
        );
        cfg.copy_as_is.push("products".into());
        let mut s = Scanner::default();
        s.add(
            "users",
            &raw(&doc! {
                "email": "dina@daraa.example",
                "firstName": "Dina",
                "address": {"phone": "+963 912 345 678", "city": "Homs"},
                "emails": ["a@daraa.example", "b@daraa.example", 7],
                "note": "call +963 912 345 678 or +963 933 111 222",
            }),
        );
        s.add("users", &raw(&doc! {"email": "omar@daraa.example", "firstName": "  "}));
        s.add("users", &raw(&doc! {"other": 1}));
        s.add("products", &raw(&doc! {"title": "lamp", "seller": {"mail": "s@daraa.example"}}));
        s.add("orders", &raw(&doc! {"total": 3}));
        assert_eq!((s.sampled("users"), s.sampled("products"), s.sampled("nothing")), (3, 1, 0));

        let report = s.report(&cfg);
        let summary: Vec<(String, u64, bool, Vec<Row>)> = report
            .into_iter()
            .map(|c| {
                let fields = c
                    .fields
                    .into_iter()
                    .map(|f| (f.field, f.kind, f.embedded, f.values, f.documents, f.rule))
                    .collect();
                (c.name, c.sampled, c.unconfigured, fields)
            })
            .collect();
        let some = |s: &str| Some(s.to_owned());
        assert_eq!(
            summary,
            [
                ("orders".to_owned(), 1, true, vec![]),
                (
                    "products".to_owned(),
                    1,
                    false,
                    vec![("seller.mail".to_owned(), Kind::Email, false, 1, 1, some("scan"))]
                ),
                (
                    "users".to_owned(),
                    3,
                    false,
                    vec![
                        (
                            "address.phone".to_owned(),
                            Kind::Phone,
                            false,
                            1,
                            1,
                            some("remove on address")
                        ),
                        ("email".to_owned(), Kind::Email, false, 2, 2, some("hash")),
                        ("emails".to_owned(), Kind::Email, false, 2, 1, some("scan")),
                        ("firstName".to_owned(), Kind::PersonName, false, 1, 1, None),
                        ("note".to_owned(), Kind::Phone, true, 2, 1, some("scan")),
                    ]
                ),
            ]
        );
    }

    /// A rule at `addr` does not cover `address` (a parent is a whole path segment).
    #[test]
    fn a_parent_rule_covers_only_whole_path_segments() {
        let mut cfg = MaskingConfig::default();
        cfg.collections.insert(
            "users".into(),
            [("addr".to_owned(), MaskRuleSpec::Short(MaskKind::Remove))].into_iter().collect(),
        );
        assert_eq!(covering_rule(&cfg, "users", "address.phone"), None);
        assert_eq!(covering_rule(&cfg, "users", "addr.phone").as_deref(), Some("remove on addr"));
        assert_eq!(covering_rule(&cfg, "users", "addr").as_deref(), Some("remove"));
        assert_eq!(covering_rule(&cfg, "orders", "addr"), None);
        assert!(scanned(Kind::CardNumber) && scanned(Kind::Iban) && !scanned(Kind::GeoPoint));
    }

    /// A backup is sampled up to `sample` documents per collection, the first ones in the
    /// order written, across the reader's batches (1,000 documents) and across segments
    /// interleaved with another collection's; an empty collection is listed with none. The
    /// archive is compared with the manifest it is given and read to its end, so damage or a
    /// mismatch past the sample still fails the check.
    #[test]
    fn a_backup_is_sampled_per_collection_and_read_to_its_end() {
        use crate::archive::ArchiveError;
        use crate::archive::mongodump::CRC64;
        use crate::archive::mongodump::writer::{InterleavedWriter, PreludeEntry};
        let entry = |n: &str| PreludeEntry {
            collection: n.into(),
            metadata: format!(
                r#"{{"options":{{}},"indexes":[],"collectionName":"{n}","type":"collection"}}"#
            ),
            kind: "collection".into(),
        };
        // Document i holds an e-mail in a field of its own (`<prefix><i>`): the report's
        // fields name exactly the documents sampled.
        let docs = |prefix: &str, from: usize, to: usize| -> Vec<u8> {
            (from..to)
                .flat_map(|i| raw(&doc! {format!("{prefix}{i}"): "u@daraa.example"}).into_bytes())
                .collect()
        };
        let mut w = InterleavedWriter::new(Vec::new(), "shop");
        w.prelude("7.0.14", 2, &[entry("empty"), entry("orders"), entry("users")], false).unwrap();
        let mut crc = [CRC64.digest(), CRC64.digest()];
        for (c, name, bytes) in [
            (1, "users", docs("u", 0, 600)),
            (0, "orders", docs("o", 0, 2)),
            (1, "users", docs("u", 600, 1003)),
            (0, "orders", docs("o", 2, 4)),
        ] {
            crc[c].update(&bytes);
            w.segment(name, &bytes).unwrap();
        }
        let [orders_crc, users_crc] = crc;
        w.end("empty", 0).unwrap();
        w.end("orders", orders_crc.finalize()).unwrap();
        w.end("users", users_crc.finalize()).unwrap();
        let archive = w.into_inner();

        for sample in [0_u64, 1, 3, 999, 1000, 1001, 1003, 2000] {
            let s = sample_archive(&archive[..], None, sample).unwrap();
            let report: Vec<(String, u64, BTreeSet<String>)> = s
                .report(&MaskingConfig::default())
                .into_iter()
                .map(|c| (c.name, c.sampled, c.fields.into_iter().map(|f| f.field).collect()))
                .collect();
            let first = |prefix: &str, n: u64| (0..n).map(|i| format!("{prefix}{i}")).collect();
            let (orders, users) = (sample.min(4), sample.min(1003));
            assert_eq!(
                report,
                [
                    ("empty".to_owned(), 0, BTreeSet::new()),
                    ("orders".to_owned(), orders, first("o", orders)),
                    ("users".to_owned(), users, first("u", users)),
                ],
                "sample {sample}"
            );
        }

        // The manifest it is given (an archive-format backup's sidecar) is compared: the one
        // read back passes, one that counts a document more is refused.
        let mut sidecar =
            crate::archive::walk::walk(&archive[..], None, false, |_| Ok(())).unwrap().manifest;
        sidecar.container = Some("archive".into());
        assert_eq!(sample_archive(&archive[..], Some(&sidecar), 1).unwrap().sampled("users"), 1);
        let mut more = sidecar.clone();
        more.collections.iter_mut().find(|c| c.name == "users").unwrap().documents += 1;
        match sample_archive(&archive[..], Some(&more), 1) {
            Err(ArchiveError::Corrupt(m)) => assert!(m.contains("users"), "{m}"),
            other => panic!("a manifest counting one more document passed: {other:?}"),
        }
        // Cut in the last collection's end marker, after the first batch was sampled.
        match sample_archive(&archive[..archive.len() - 30], None, 1) {
            Err(ArchiveError::Corrupt(m)) => assert!(!m.is_empty()),
            other => panic!("a cut archive sampled as {other:?}"),
        }
    }
}
