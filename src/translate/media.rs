//! Media-type helpers the front-ends share beyond [`super::blocks`]: an image media type to
//! Converse's image format.

/// An image media type → Converse's image format (png, jpeg, gif, webp).
pub(crate) fn image_format(mime: &str) -> Option<&'static str> {
    Some(match mime.to_ascii_lowercase().as_str() {
        "image/png" => "png",
        "image/jpeg" | "image/jpg" => "jpeg",
        "image/gif" => "gif",
        "image/webp" => "webp",
        _ => return None,
    })
}
