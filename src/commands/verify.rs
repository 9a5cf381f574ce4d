//! `verify <ID|latest|PATH>`: the verify engine (src/verify.rs), its report for people, and
//! the result recorded beside a catalog backup.

use crate::archive::SourceFormat;
use crate::archive::format::Checksums;
use crate::cli::VerifyArgs;
use crate::context::{Context, PendingCheck};
use crate::error::Outcome;
use crate::verify::{self, Env};

pub async fn run(ctx: &Context, args: &VerifyArgs) -> anyhow::Result<Outcome> {
    let cfg = &ctx.config()?.config;
    let env = Env { cfg, cancel: &ctx.cancel, out: &ctx.out };
    let checked = verify::run(env, &args.target).await?;
    ctx.check(PendingCheck {
        source: checked.source.clone(),
        kind: crate::repo::CheckKind::Verify,
        contents_checked: Some(checked.contents_checked),
        restore_seconds: None,
        to_time: None,
        problems: Vec::new(),
    });
    let v = checked.result?;
    let id = &checked.source.id;
    ctx.tally(crate::lastrun::Tally {
        bytes: v.totals.bytes,
        documents: v.totals.documents,
        restore_seconds: None,
    });
    if v.rekey_pending {
        ctx.out.line(format!(
            "note: {id} is the new archive of an interrupted rekey (its sidecar still names the old one); run `daraa-ops rekey {id}` to finish"
        ));
    }
    let (Some(members), Some(format), Some(checksums)) = (v.members, v.format, v.checksums) else {
        ctx.out.line(format!(
            "verified {id} without a key: the encrypted archive is the one written ({}, SHA-256 as recorded); its contents were not checked: configure backup.encryption.identity_files for a full verify",
            crate::output::human_bytes(v.size)
        ));
        return Ok(Outcome::Ok);
    };
    let t = &v.totals;
    ctx.out.line(format!(
        "verified {id}: {} collection(s), {} document(s), {} of BSON, {members} members, {:.1} MB/s{}",
        t.collections + t.views,
        t.documents,
        crate::output::human_bytes(t.bytes),
        t.bytes as f64 / 1e6 / v.seconds.max(1e-6),
        checked_note(format, checksums, v.sidecar)
    ));
    Ok(Outcome::Ok)
}

/// What a verify checked against, when it was less than a daraa-ops sidecar.
fn checked_note(format: SourceFormat, checksums: Checksums, sidecar: bool) -> String {
    match (format, checksums) {
        (_, Checksums::Sha256) if sidecar => String::new(),
        (_, Checksums::Sha256) => {
            " (no sidecar: checked against the archive's own manifest)".into()
        }
        (format, Checksums::Crc64) => format!(
            " ({}: no daraa-ops manifest; checked structure, BSON, metadata, counts and each collection's CRC-64; `daraa-ops import` records SHA-256 checksums)",
            format.describe()
        ),
        (format, Checksums::None) => format!(
            " ({}: no checksums were recorded; checked structure, BSON, metadata and counts only; `daraa-ops import` records them)",
            format.describe()
        ),
    }
}
