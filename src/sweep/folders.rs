//! Target folders as the server names them.
//!
//! A folder may be configured by its SPECIAL-USE attribute (RFC 6154)
//! instead of its name: `processed_folder = "\\Archive"` finds the folder
//! the server marks `\Archive`, whatever the account's language calls it
//! (Gmail's `[Gmail]/All Mail` is `[Gmail]/Alle Nachrichten` for a German
//! account; Microsoft 365 calls `Archive` `Archiv`, `Deleted Items`
//! `Gelöschte Elemente`). Both providers, and Dovecot, report the
//! attributes in a plain LIST.
//!
//! Gmail (capability `X-GM-EXT-1`) treats folders as labels: expunging a
//! message in INBOX only removes the INBOX label and keeps the message in
//! All Mail. So `after = "delete"` on Gmail moves recorded messages to the
//! `\Trash` folder (`[Gmail]/Trash`, `[Gmail]/Papierkorb`, ...), which is
//! how Gmail deletes; a move to any other folder takes the INBOX label off
//! and puts that folder's label on, as a move should.

use super::config::{AccountSettings, After};
use super::connect::Session;
use super::error::{SweepError, imap_err};

/// The capability by which Gmail announces its extensions.
const GMAIL_CAPABILITY: &str = "X-GM-EXT-1";

/// The target folders, resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Folders {
    /// For recorded messages.
    pub(crate) processed: String,
    /// For quarantined messages.
    pub(crate) quarantine: String,
    /// Where deleted messages go instead of an expunge (Gmail).
    pub(crate) trash: Option<String>,
}

/// Whether `folder` is written as a SPECIAL-USE attribute.
pub(crate) fn is_special_use(folder: &str) -> bool {
    folder.starts_with('\\')
}

/// Resolves the account's target folders on the server (one LIST, only
/// when some folder is named by attribute or the server is Gmail and
/// recorded messages are deleted).
pub(crate) fn resolve(
    session: &mut Session,
    account: &AccountSettings,
) -> Result<Folders, SweepError> {
    let gmail = session
        .capabilities()
        .map_err(imap_err("asking for capabilities"))?
        .has_str(GMAIL_CAPABILITY);
    let wants_trash = gmail && account.after == After::Delete;
    let named = [&account.processed_folder, &account.quarantine_folder];
    if !wants_trash && !named.iter().any(|f| is_special_use(f)) {
        return Ok(Folders {
            processed: account.processed_folder.clone(),
            quarantine: account.quarantine_folder.clone(),
            trash: None,
        });
    }
    let listed = session
        .list(Some(""), Some("*"))
        .map_err(imap_err("listing folders"))?;
    let folders: Vec<(String, Vec<String>)> = listed
        .iter()
        .map(|n| {
            let attributes = n
                .attributes()
                .iter()
                .filter_map(|a| match a {
                    imap::types::NameAttribute::Custom(c) => {
                        Some(c.to_string())
                    }
                    _ => None,
                })
                .collect();
            (n.name().to_string(), attributes)
        })
        .collect();
    drop(listed);
    let find = |attribute: &str| {
        folders
            .iter()
            .find(|(_, attrs)| {
                attrs.iter().any(|a| a.eq_ignore_ascii_case(attribute))
            })
            .map(|(name, _)| name.clone())
    };
    let by_attribute = |folder: &String| -> Result<String, SweepError> {
        if !is_special_use(folder) {
            return Ok(folder.clone());
        }
        find(folder).ok_or_else(|| {
            SweepError::Config(format!(
                "no folder of {} has the SPECIAL-USE attribute {folder} (RFC 6154); \
                 name the folder itself",
                account.name
            ))
        })
    };
    Ok(Folders {
        processed: by_attribute(&account.processed_folder)?,
        quarantine: by_attribute(&account.quarantine_folder)?,
        trash: if wants_trash { find("\\Trash") } else { None },
    })
}
