//! Deterministic Daraa-like data for development, tests and benchmarks (not an operator
//! command): `cargo run --example seed -- --uri ... --scale 1 --seed 42`.
//!
//! The same `(seed, scale, now)` always produces the same documents: every collection draws
//! from its own ChaCha stream, and `_id`s are derived from the collection name and index, so
//! references resolve. Dates spread over the two years before `now`.

pub mod zoo;

use std::collections::BTreeMap;
use std::time::Instant;

use bson::{Bson, DateTime, Document, RawDocumentBuf, doc, oid::ObjectId};
use futures_util::future::try_join_all;
use mongodb::{Client, Database};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

/// A collection whose name mongodump must escape in file names (space, '/', '%', '?').
pub const ESCAPED_COLLECTION: &str = "order events/2024 50%?";

/// A collection with a dot in its name besides GridFS's (FerretDB refuses to rename such names).
pub const DOTTED_COLLECTION: &str = "reports.daily";

/// A collection named in Arabic script, with a dot ("delivery logs.couriers").
pub const UNICODE_COLLECTION: &str = "سجلات.التوصيل";

/// GridFS files of product images and invoices at scale 1, written through the driver's
/// GridFS bucket (`fs.files`, `fs.chunks` and their indexes, as every GridFS client writes
/// them).
const GRIDFS_FILES: u64 = 24;

const DAY_MS: i64 = 86_400_000;
const TWO_YEARS_MS: i64 = 730 * DAY_MS;

#[derive(Debug, Clone)]
pub struct SeedOptions {
    pub database: String,
    pub scale: f64,
    pub seed: u64,
    /// The reference time; documents are dated up to two years before it.
    pub now_ms: i64,
    /// Collections seeded at once.
    pub parallel: usize,
    pub with_zoo: bool,
}

#[derive(Debug, Default, Serialize)]
pub struct SeedReport {
    pub database: String,
    pub documents: u64,
    pub collections: BTreeMap<String, u64>,
    pub seconds: f64,
    pub bsonzoo: ZooReport,
}

#[derive(Debug, Default, Serialize)]
pub struct ZooReport {
    /// Read back byte-identical.
    pub stored: Vec<String>,
    /// Accepted but read back different (e.g. -0.0 turned into 0.0).
    pub altered: Vec<String>,
    /// Refused by the server, with its message.
    pub refused: BTreeMap<String, String>,
}

/// Base counts at scale 1 (121,050 documents).
const PLAN: &[(&str, u64)] = &[
    ("categories", 50),
    ("stores", 500),
    ("users", 10_000),
    ("addresses", 10_000),
    ("products", 10_000),
    ("wallets", 10_500),
    ("carts", 5_000),
    ("orders", 15_000),
    ("wallettransactions", 20_000),
    ("commissions", 10_000),
    ("notifications", 20_000),
    ("auditlogs", 10_000),
    ("supporttickets", 500),
    (ESCAPED_COLLECTION, 50),
    (DOTTED_COLLECTION, 30),
    (UNICODE_COLLECTION, 20),
];

/// Seeds the database (existing collections of the same names are dropped first).
pub async fn seed(client: &Client, opts: &SeedOptions) -> anyhow::Result<SeedReport> {
    let started = Instant::now();
    let db = client.database(&opts.database);
    let mut report = SeedReport { database: opts.database.clone(), ..SeedReport::default() };
    let plan: Vec<(&str, u64)> = PLAN
        .iter()
        .map(|(name, n)| (*name, ((*n as f64) * opts.scale).ceil().max(1.0) as u64))
        .collect();
    for chunk in plan.chunks(opts.parallel.max(1)) {
        let counts =
            try_join_all(chunk.iter().map(|(name, n)| seed_collection(&db, name, *n, opts)))
                .await?;
        for ((name, _), n) in chunk.iter().zip(counts) {
            report.collections.insert((*name).to_owned(), n);
            report.documents += n;
        }
    }
    let files = seed_gridfs(&db, opts).await?;
    report.collections.insert("fs.files".into(), files.0);
    report.collections.insert("fs.chunks".into(), files.1);
    report.documents += files.0 + files.1;
    if opts.with_zoo {
        report.bsonzoo = seed_zoo(&db).await?;
        let zoo_count = report.bsonzoo.stored.len() + report.bsonzoo.altered.len();
        report.collections.insert("bsonzoo".into(), zoo_count as u64);
        report.documents += zoo_count as u64;
    }
    report.seconds = started.elapsed().as_secs_f64();
    Ok(report)
}

async fn seed_collection(
    db: &Database,
    name: &str,
    n: u64,
    opts: &SeedOptions,
) -> anyhow::Result<u64> {
    let coll = db.collection::<Document>(name);
    coll.drop().await?;
    let mut gen_ = Gen::new(opts, name);
    let mut written = 0;
    let mut batch = Vec::with_capacity(1000);
    for i in 0..n {
        batch.push(gen_.document(name, i));
        if batch.len() == 1000 || i + 1 == n {
            written += coll
                .insert_many(std::mem::take(&mut batch))
                .ordered(false)
                .await?
                .inserted_ids
                .len() as u64;
        }
    }
    Ok(written)
}

/// GridFS files through the driver's bucket (default chunk size, so the larger files have
/// several chunks), with personal data in their metadata. The driver stamps `uploadDate` with
/// the wall clock; it is set to a time derived from the seed afterwards, so that the same
/// seed gives the same documents. Returns (files, chunks).
async fn seed_gridfs(db: &Database, opts: &SeedOptions) -> anyhow::Result<(u64, u64)> {
    use futures_util::io::AsyncWriteExt as _;
    let bucket = db.gridfs_bucket(None);
    bucket.drop().await.or_else(|e| match e.kind.as_ref() {
        mongodb::error::ErrorKind::Command(c) if c.code == 26 => Ok(()),
        _ => Err(e),
    })?;
    let n = ((GRIDFS_FILES as f64) * opts.scale).ceil().max(2.0) as u64;
    let mut g = Gen::new(opts, "fs.files");
    let mut chunks = 0;
    for i in 0..n {
        let invoice = i % 3 == 2;
        // One of three chunks, an empty file, then random sizes. (The bucket creates its
        // indexes before its first write while fs.files is empty: the first file has data.)
        let size = match i {
            0 => 600_000,
            1 => 0,
            _ => g.rng.random_range(1_000..700_000_usize),
        };
        let mut data = vec![0u8; size];
        g.rng.fill(&mut data[..]);
        let name =
            if invoice { format!("invoices/INV-{i:05}.pdf") } else { format!("products/{i}.jpg") };
        let user = g.rng.random_range(0..g.count(10_000));
        let metadata = doc! {
            "contentType": if invoice { "application/pdf" } else { "image/jpeg" },
            "storeId": g.ref_id("stores", 500),
            "uploadedBy": format!("user{user}@daraa.example"),
        };
        let id = ref_id("fs.files", i);
        let mut up =
            bucket.open_upload_stream(&name).id(Bson::ObjectId(id)).metadata(metadata).await?;
        up.write_all(&data).await?;
        up.close().await?;
        chunks += size.div_ceil(255 * 1024) as u64;
        let uploaded = DateTime::from_millis(g.past());
        db.collection::<Document>("fs.files")
            .update_one(doc! {"_id": id}, doc! {"$set": {"uploadDate": uploaded}})
            .await?;
    }
    Ok((n, chunks))
}

/// Inserts each zoo document alone and reads it back, classifying what the server did.
async fn seed_zoo(db: &Database) -> anyhow::Result<ZooReport> {
    let coll = db.collection::<RawDocumentBuf>("bsonzoo");
    coll.drop().await?;
    let mut report = ZooReport::default();
    for d in zoo::documents() {
        let id = d.get_str("_id").unwrap_or("?").to_owned();
        let raw = RawDocumentBuf::try_from(&d)?;
        if let Err(e) = coll.insert_one(&raw).await {
            let msg = e.to_string();
            report.refused.insert(id, msg.chars().take(200).collect());
            continue;
        }
        match coll.find_one(doc! {"_id": &id}).await? {
            Some(back) if back.as_bytes() == raw.as_bytes() => report.stored.push(id),
            Some(_) => report.altered.push(id),
            None => {
                report.refused.insert(id, "accepted but not found on read".into());
            }
        }
    }
    Ok(report)
}

struct Gen {
    rng: ChaCha8Rng,
    now_ms: i64,
    scale: f64,
}

const CITIES: &[&str] =
    &["Daraa", "Izraa", "Nawa", "Busra al-Harir", "Al-Sanamayn", "Tafas", "Jasim"];
const ORDER_STATUS: &[&str] =
    &["pending", "confirmed", "preparing", "on_the_way", "delivered", "cancelled"];
const TX_TYPES: &[&str] = &["credit", "debit", "commission", "refund", "payout"];
const TX_STATUS: &[&str] = &["pending", "completed", "failed"];
const NOTIF_TYPES: &[&str] = &["order_update", "promotion", "wallet", "system", "chat"];
const PRIORITIES: &[&str] = &["low", "normal", "high"];
const ROLES: &[&str] = &["customer", "customer", "customer", "store_owner", "courier", "admin"];
const AUDIT_ACTIONS: &[&str] =
    &["login", "logout", "update_profile", "create_order", "refund", "price_change", "role_change"];
const CART_STATUS: &[&str] = &["active", "active", "converted", "abandoned"];

impl Gen {
    fn new(opts: &SeedOptions, collection: &str) -> Self {
        // One stream per collection, so the output does not depend on the seeding order.
        let salt = collection.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
        });
        Gen {
            rng: ChaCha8Rng::seed_from_u64(opts.seed ^ salt),
            now_ms: opts.now_ms,
            scale: opts.scale,
        }
    }

    fn count(&self, base: u64) -> u64 {
        ((base as f64) * self.scale).ceil().max(1.0) as u64
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.rng.random_range(0..items.len())]
    }

    /// A time in the two years before `now`.
    fn past(&mut self) -> i64 {
        self.now_ms - self.rng.random_range(0..TWO_YEARS_MS)
    }

    /// A reference to the i-th document of another collection (ids there are `ref_id`).
    fn ref_id(&mut self, collection: &str, base: u64) -> ObjectId {
        let n = self.count(base);
        let i = self.rng.random_range(0..n);
        ref_id(collection, i)
    }

    fn point(&mut self) -> Document {
        let lon = 36.0 + self.rng.random_range(0.0..0.4);
        let lat = 32.5 + self.rng.random_range(0.0..0.3);
        doc! {"type": "Point", "coordinates": [lon, lat]}
    }

    fn phone(&mut self) -> String {
        format!("+9639{:08}", self.rng.random_range(0..100_000_000_u32))
    }

    fn email(&mut self) -> String {
        format!("user{}@daraa.example", self.rng.random_range(0..self.count(10_000)))
    }

    /// A card number that passes the Luhn check (a test range).
    fn card(&mut self) -> String {
        let mut digits: Vec<u32> = vec![4, 0, 0, 0];
        digits.extend((0..11).map(|_| self.rng.random_range(0..10_u32)));
        let sum: u32 = digits
            .iter()
            .rev()
            .enumerate()
            .map(|(k, d)| {
                if k % 2 == 0 {
                    let x = d * 2;
                    if x > 9 { x - 9 } else { x }
                } else {
                    *d
                }
            })
            .sum();
        digits.push((10 - sum % 10) % 10);
        let s: String = digits.iter().map(|d| char::from_digit(*d, 10).unwrap_or('0')).collect();
        format!("{} {} {} {}", &s[..4], &s[4..8], &s[8..12], &s[12..])
    }

    /// A German IBAN with valid check digits (ISO 13616 mod 97).
    fn iban(&mut self) -> String {
        let bban: String =
            (0..18).map(|_| char::from(b'0' + self.rng.random_range(0..10_u8))).collect();
        // Check digits: 98 - (BBAN + "DE00" as digits) mod 97, D = 13, E = 14.
        let rem =
            format!("{bban}131400").bytes().fold(0u32, |r, b| (r * 10 + u32::from(b - b'0')) % 97);
        let check = 98 - rem;
        let s = format!("DE{check:02}{bban}");
        s.as_bytes()
            .chunks(4)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect::<Vec<_>>()
            .join(" ")
    }

    fn money(&mut self, max: i64) -> i64 {
        self.rng.random_range(100..max) * 100
    }

    fn order(
        &mut self,
        id: ObjectId,
        i: u64,
        created_at: DateTime,
        updated_at: DateTime,
    ) -> Document {
        let n_items = self.rng.random_range(1..5);
        let items: Vec<Bson> = (0..n_items)
                    .map(|_| Bson::Document(doc! {"productId": self.ref_id("products", 10_000), "quantity": self.rng.random_range(1..4_i32), "price": self.money(500)}))
                    .collect();
        let mut d = doc! {"_id": id, "userId": self.ref_id("users", 10_000), "storeId": self.ref_id("stores", 500),
        "courierId": self.ref_id("users", 10_000), "items": items, "total": self.money(5_000),
        "status": self.pick(ORDER_STATUS), "deliveryLocation": self.point(),
        "createdAt": created_at, "updatedAt": updated_at};
        // Personal data inside free text, as customers and couriers write it.
        if i.is_multiple_of(4) {
            let (phone, email) = (self.phone(), self.email());
            d.insert("note", format!("call {phone} or mail {email} before 6pm, gate code 4411"));
        }
        let history: Vec<Bson> = (0..self.rng.random_range(1..3))
            .map(|k| {
                let note = if k == 0 && i.is_multiple_of(5) {
                    format!("courier called {} twice, no answer", self.phone())
                } else {
                    "status changed".into()
                };
                Bson::Document(
                    doc! {"status": self.pick(ORDER_STATUS), "at": created_at, "note": note},
                )
            })
            .collect();
        d.insert("history", history);
        d
    }

    /// Collections of free text with personal data in it, and the awkwardly named ones.
    fn text_document(
        &mut self,
        collection: &str,
        id: ObjectId,
        i: u64,
        created_at: DateTime,
    ) -> Document {
        match collection {
            // Free text only; masking has no field rules for it (docs/masking.md).
            "supporttickets" => {
                let body = match i % 4 {
                    0 => format!("Please refund to IBAN {} asap", self.iban()),
                    1 => format!(
                        "My card {} was charged twice, reach me at {}",
                        self.card(),
                        self.email()
                    ),
                    2 => format!("Courier never came. Phone: {}", self.phone()),
                    _ => "The app crashes when I open my cart.".to_owned(),
                };
                doc! {"_id": id, "subject": format!("Ticket {i}"), "body": body, "status": self.pick(&["open", "closed"]),
                "createdAt": created_at}
            }
            UNICODE_COLLECTION => {
                doc! {"_id": id, "courierId": self.ref_id("users", 10_000), "city": self.pick(CITIES),
                "ملاحظة": "تم التسليم", "at": created_at}
            }
            DOTTED_COLLECTION => {
                doc! {"_id": id, "day": created_at, "orders": self.rng.random_range(0..500_i32),
                "revenue": self.money(100_000), "summary": format!("top courier reachable at {}", self.phone())}
            }
            _ => doc! {"_id": id},
        }
    }

    fn document(&mut self, collection: &str, i: u64) -> Document {
        let created = self.past();
        let updated = created + self.rng.random_range(0..30 * DAY_MS).min(self.now_ms - created);
        let created_at = DateTime::from_millis(created);
        let updated_at = DateTime::from_millis(updated);
        let id = ref_id(collection, i);
        match collection {
            "categories" => {
                doc! {"_id": id, "name": format!("Category {i}"), "slug": format!("category-{i}"),
                "parentId": if i > 10 { Bson::ObjectId(ref_id("categories", i % 10)) } else { Bson::Null },
                "createdAt": created_at}
            }
            "stores" => {
                doc! {"_id": id, "name": format!("Store {i}"), "ownerId": self.ref_id("users", 10_000),
                "location": self.point(), "city": self.pick(CITIES), "rating": f64::from(self.rng.random_range(10..50_u8)) / 10.0,
                "categoryIds": [self.ref_id("categories", 50), self.ref_id("categories", 50)],
                "isActive": self.rng.random_bool(0.9), "createdAt": created_at, "updatedAt": updated_at}
            }
            "users" => {
                doc! {"_id": id, "name": format!("User {i}"), "email": format!("user{i}@daraa.example"),
                "phone": format!("+9639{:08}", self.rng.random_range(0..100_000_000_u32)), "role": self.pick(ROLES),
                "isVerified": self.rng.random_bool(0.7), "createdAt": created_at, "updatedAt": updated_at}
            }
            "addresses" => {
                doc! {"_id": id, "userId": self.ref_id("users", 10_000), "label": self.pick(&["home", "work", "other"]),
                "city": self.pick(CITIES), "street": format!("Street {}", self.rng.random_range(1..300)),
                "location": self.point(), "isDefault": self.rng.random_bool(0.3), "createdAt": created_at}
            }
            "products" => {
                doc! {"_id": id, "storeId": self.ref_id("stores", 500), "categoryId": self.ref_id("categories", 50),
                "name": format!("Product {i}"), "description": "Fresh from Daraa. ".repeat(self.rng.random_range(1..6)),
                "price": self.money(500), "stock": self.rng.random_range(0..500_i32),
                "tags": ["local", self.pick(&["fresh", "frozen", "bakery", "dairy", "spices"])],
                "isAvailable": self.rng.random_bool(0.85), "createdAt": created_at, "updatedAt": updated_at}
            }
            "wallets" => {
                doc! {"_id": id, "ownerId": self.ref_id("users", 10_000), "ownerType": self.pick(&["user", "user", "store", "courier"]),
                "balance": self.money(10_000), "currency": "SYP", "createdAt": created_at, "updatedAt": updated_at}
            }
            "carts" => {
                let items: Vec<Bson> = (0..self.rng.random_range(1..6))
                    .map(|_| Bson::Document(doc! {"productId": self.ref_id("products", 10_000), "quantity": self.rng.random_range(1..5_i32), "price": self.money(500)}))
                    .collect();
                doc! {"_id": id, "userId": self.ref_id("users", 10_000), "items": items, "status": self.pick(CART_STATUS),
                "createdAt": created_at, "updatedAt": updated_at}
            }
            "orders" => self.order(id, i, created_at, updated_at),
            "wallettransactions" => {
                let mut d = doc! {"_id": id, "walletId": self.ref_id("wallets", 10_500), "accountId": self.ref_id("users", 10_000),
                "type": self.pick(TX_TYPES), "status": self.pick(TX_STATUS), "orderId": self.ref_id("orders", 15_000),
                "amount": self.money(2_000), "currency": "SYP", "createdAt": created_at};
                // Sparse unique index in the spec: a quarter of transactions have no reference.
                if self.rng.random_bool(0.75) {
                    d.insert("transactionRef", format!("TX-{i:08}"));
                }
                d
            }
            "commissions" => {
                doc! {"_id": id, "orderId": self.ref_id("orders", 15_000), "storeAccountId": self.ref_id("wallets", 10_500),
                "courierAccountId": self.ref_id("wallets", 10_500), "status": self.pick(&["pending", "settled", "cancelled"]),
                "amount": self.money(200), "rate": 0.1, "createdAt": created_at}
            }
            "notifications" => {
                doc! {"_id": id, "recipientId": self.ref_id("users", 10_000), "type": self.pick(NOTIF_TYPES),
                "priority": self.pick(PRIORITIES), "title": format!("Notification {i}"), "body": "Your order is on its way.",
                "isRead": self.rng.random_bool(0.6), "createdAt": created_at}
            }
            "auditlogs" => {
                doc! {"_id": id, "actorId": self.ref_id("users", 10_000), "action": self.pick(AUDIT_ACTIONS),
                "entity": self.pick(&["order", "product", "user", "wallet"]), "entityId": self.ref_id("orders", 15_000),
                "ip": format!("10.{}.{}.{}", self.rng.random_range(0..255), self.rng.random_range(0..255), self.rng.random_range(1..255)),
                "meta": {"userAgent": "daraa-app/3.2", "success": self.rng.random_bool(0.95)}, "createdAt": created_at,
                "message": format!("login by {} from 10.0.{}.{}", self.email(), self.rng.random_range(0..255), self.rng.random_range(1..255))}
            }
            "supporttickets" | UNICODE_COLLECTION | DOTTED_COLLECTION => {
                self.text_document(collection, id, i, created_at)
            }
            _ => {
                doc! {"_id": id, "event": self.pick(ORDER_STATUS), "orderId": self.ref_id("orders", 15_000), "createdAt": created_at}
            }
        }
    }
}

/// The `_id` of the i-th document of a collection: stable, so references resolve.
pub fn ref_id(collection: &str, i: u64) -> ObjectId {
    let h = collection
        .bytes()
        .fold(0x811c_9dc5_u32, |h, b| (h ^ u32::from(b)).wrapping_mul(0x0100_0193));
    let mut b = [0u8; 12];
    b[..4].copy_from_slice(&h.to_be_bytes());
    b[4..].copy_from_slice(&i.to_be_bytes());
    ObjectId::from_bytes(b)
}

/// Midnight UTC of today, in milliseconds: the default `now`.
pub fn today_ms() -> i64 {
    let now = jiff::Timestamp::now().as_millisecond();
    now - now.rem_euclid(DAY_MS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generation_is_deterministic() {
        let opts = SeedOptions {
            database: "x".into(),
            scale: 1.0,
            seed: 42,
            now_ms: 1_700_000_000_000,
            parallel: 1,
            with_zoo: false,
        };
        let a: Vec<Document> =
            (0..50).map(|i| Gen::new(&opts, "orders").document("orders", i)).collect();
        let b: Vec<Document> =
            (0..50).map(|i| Gen::new(&opts, "orders").document("orders", i)).collect();
        assert_eq!(a, b);
        let other = SeedOptions { seed: 43, ..opts };
        assert_ne!(a[0], Gen::new(&other, "orders").document("orders", 0));
    }

    #[test]
    fn scale_one_is_at_least_100k_documents() {
        let total: u64 = PLAN.iter().map(|(_, n)| n).sum();
        assert!(total >= 100_000, "{total}");
    }
}
