//! The pay widget's Buy-button flow (`spec/payments.md` §7, with §5.2–§5.7) as a pure reducer.
//!
//! The yew component and the wasm shell own the DOM, `window.open`, `fetch`, `EventSource`,
//! timers, storage and the receipt verifier calls. Every decision about the flow is made here by
//! [`reduce`]: the shell feeds it an [`Action`] (a click, an HTTP answer, a `message` event, a
//! timer…) with the current time, stores the returned [`State`], and performs the returned
//! [`Effect`]s **in order**.
//!
//! ```text
//! let config = Config { product_id, providers: PayProviders::new(map, &urls)?, .. };  // at mount
//! let mut state = State::initial(&config);
//! // on every event:
//! let (next, effects) = reduce(&config, state, action, Date.now());
//! state = next;
//! for e in effects { perform(e) }   // OpenBlankPopup / OpenPopup report back synchronously
//!                                   // with Action::PopupOpened before the next effect runs
//! ```
//!
//! Rules the shell relies on:
//! - **Synchronous popup.** [`Effect::OpenBlankPopup`] and [`Effect::OpenPopup`] come first in
//!   the list produced by an activation. The shell opens the window right away, inside the same
//!   event handler, and dispatches [`Action::PopupOpened`] (with `blocked` when `window.open`
//!   returned `null` or an already closed window) before performing the next effect.
//! - **One timer per kind.** [`Effect::Schedule`] replaces a pending timer of the same
//!   [`TimerKind`]. When a timer fires, the shell dispatches [`Action::TimerFired`] with the
//!   timer's attempt id and whether the popup is closed (`true` when there is none).
//! - **Attempt ids.** Every effect that starts asynchronous work carries the attempt id, and the
//!   answer action must carry it back. Answers for another attempt, and answers the current
//!   state does not expect, are ignored. So is every action that makes no sense in the current
//!   state (a second click while busy, a `complete` status while paying, …).
//! - **Cleanup.** [`Effect::EndAttempt`] closes a popup the widget opened, removes the message
//!   listener, cancels every timer, aborts requests in flight and closes an event stream.
//!
//! A client-side success alone never yields `purchased` (§5.7): only the app server's
//! `complete` status with a receipt, the receipt stored, the local verification passed, and a
//! store answer that is not `refunded`/`invalid`/`expired` lead there.
//!
//! The module also holds the pieces around the reducer that are business rules: the error
//! catalogue ([`ErrorCode`], [`WidgetError`], §7.6), the UI strings and locale negotiation
//! ([`MessageKey`], [`negotiate_locale`], [`format_message`], [`product_text`], §7.9), pay URL
//! templates ([`PayProviders`], §5.1), timing options and the polling backoff ([`Timing`], §7.4),
//! the popup features string ([`popup_features`], §5.2), the status/store answer
//! classification ([`classify_status`], [`classify_store_answer`]), the local receipt check
//! ([`check_receipt`], [`verify_url_in_sites`], §7.5 stage 1) and the Restore button's
//! decisions ([`classify_restore_list`], [`restore_outcome`], §7.8).

use crate::error::clip;
use crate::hs256::{self, JwsAlg};
use crate::json::{self, Duplicates, Json, Limits};
use crate::pay::{is_loopback_host, MAX_PAY_JWT_BYTES, PAY_TYP};
use crate::url::{origin, UrlParser};

mod receipt_check;
pub use receipt_check::{
    check_receipt, verify_url_in_sites, ReceiptCheck, ReceiptPolicy, TrustedRoot, RECEIPT_LEEWAY_MS,
};

// ---------------------------------------------------------------------------------------------
// Constants
// ---------------------------------------------------------------------------------------------

/// The popup window name (§0.1, §5.2).
pub const POPUP_NAME: &str = "MozmarketPay";
/// The default `localStorageKey` (§0.1, §7.1).
pub const DEFAULT_LOCAL_STORAGE_KEY: &str = "mozmarketReceipts";
/// fxpay's key, read (never written) by readers of local receipts (§7.5).
pub const FXPAY_STORAGE_KEY: &str = "fxpayReceipts";
/// The default `buyUrl` (§7.1); `{id}` is replaced by [`buy_url`].
pub const DEFAULT_BUY_URL: &str = "/mozpay/product/{id}/buy";
/// The largest receipt a `complete` status may carry, in bytes (§7.4: 64 KiB).
pub const MAX_RECEIPT_BYTES: usize = 65_536;
/// The cap on a 429 `Retry-After` wait (§7.4).
pub const RETRY_AFTER_CAP_MS: f64 = 10_000.0;
/// The largest product id, in characters (§7.1).
pub const MAX_PRODUCT_ID_CHARS: usize = 255;
/// The provider code used when a `failed` message has no usable `errorCode` (§5.4).
pub const MISSING_ERROR_CODE: &str = "MISSING_ERROR_CODE";

/// JSON limits for app-server and verify-service answers: `JSON.parse` semantics (last duplicate
/// wins) with a nesting cap.
const ANSWER_LIMITS: Limits = Limits { max_depth: 64, duplicates: Duplicates::LastWins };

// ---------------------------------------------------------------------------------------------
// Localisation (§7.9)
// ---------------------------------------------------------------------------------------------

/// The supported UI locales (§7.9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Locale {
    /// `en`
    En,
    /// `de`
    De,
    /// `fr`
    Fr,
    /// `es`
    Es,
    /// `pt-BR`
    PtBr,
    /// `zh-TW`
    ZhTw,
}

impl Locale {
    /// All locales, in the column order of the strings table.
    pub const ALL: [Locale; 6] =
        [Locale::En, Locale::De, Locale::Fr, Locale::Es, Locale::PtBr, Locale::ZhTw];

    /// The BCP 47 tag (`en`, `pt-BR`, `zh-TW`, …): the widget root's `lang`.
    pub fn tag(self) -> &'static str {
        match self {
            Locale::En => "en",
            Locale::De => "de",
            Locale::Fr => "fr",
            Locale::Es => "es",
            Locale::PtBr => "pt-BR",
            Locale::ZhTw => "zh-TW",
        }
    }

    /// The primary language subtag (`pt` for `pt-BR`).
    pub fn language(self) -> &'static str {
        self.tag().split('-').next().unwrap_or_default()
    }

    fn column(self) -> usize {
        Locale::ALL.iter().position(|l| *l == self).unwrap_or(0)
    }
}

/// §7.9 rules 1–5 for one candidate tag (ASCII case-insensitive): exact match; `pt`, `pt-*` →
/// `pt-BR`; `zh-TW`, `zh-HK`, `zh-MO` (and their extensions), `zh-Hant*` → `zh-TW`; other `zh`
/// tags match nothing; `de-*`, `fr-*`, `es-*`, `en-*` → their language. `None`: no match.
pub fn match_locale(tag: &str) -> Option<Locale> {
    let t = tag.trim().to_ascii_lowercase();
    if let Some(l) = Locale::ALL.iter().find(|l| l.tag().eq_ignore_ascii_case(&t)) {
        return Some(*l);
    }
    let is = |prefix: &str| t == prefix || t.starts_with(&format!("{prefix}-"));
    if is("pt") {
        return Some(Locale::PtBr);
    }
    if is("zh-tw") || is("zh-hk") || is("zh-mo") || is("zh-hant") {
        return Some(Locale::ZhTw);
    }
    if is("zh") {
        return None;
    }
    [Locale::De, Locale::Fr, Locale::Es, Locale::En]
        .into_iter()
        .find(|l| t.starts_with(&format!("{}-", l.tag())))
}

/// §7.9: the UI locale from the candidates (the `locale` option if given, otherwise
/// `navigator.languages` in order). The first candidate that matches wins; fallback `en`.
pub fn negotiate_locale<'a>(candidates: impl IntoIterator<Item = &'a str>) -> Locale {
    candidates.into_iter().find_map(match_locale).unwrap_or(Locale::En)
}

/// The UI string keys of §7.9.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageKey {
    /// `buy`: “Buy”
    Buy,
    /// `buy_named`: “Buy {name}”
    BuyNamed,
    /// `preparing`: “Preparing…”
    Preparing,
    /// `preparing_status`: “Preparing your purchase…”
    PreparingStatus,
    /// `popup_loading`: “Loading payment…”
    PopupLoading,
    /// `paying`: “Paying…”
    Paying,
    /// `paying_status`: “Complete the payment for {name} in the payment window.”
    PayingStatus,
    /// `popup_blocked_status`: “The payment window was blocked. Select “Open payment window” to continue.”
    PopupBlockedStatus,
    /// `open_payment_window`: “Open payment window”
    OpenPaymentWindow,
    /// `cancel`: “Cancel”
    Cancel,
    /// `waiting`: “Confirming…”
    Waiting,
    /// `waiting_status`: “Waiting for the payment to be confirmed…”
    WaitingStatus,
    /// `finishing`: “Finishing…”
    Finishing,
    /// `installing_status`: “Saving your receipt…”
    InstallingStatus,
    /// `verifying_status`: “Checking your receipt…”
    VerifyingStatus,
    /// `purchased`: “Purchased”
    Purchased,
    /// `purchased_status`: “Purchase complete: {name}.”
    PurchasedStatus,
    /// `test_badge`: “Test purchase”
    TestBadge,
    /// `cancelled_status`: “Payment cancelled.”
    CancelledStatus,
    /// `retry`: “Try again”
    Retry,
    /// `error_code`: “Error code: {code}”
    ErrorCode,
    /// `err_network`: “Could not reach the server. Check your connection and try again.”
    ErrNetwork,
    /// `err_server`: “The store server sent an unexpected answer. Please try again later.”
    ErrServer,
    /// `err_payment`: “The payment failed. You have not been charged.”
    ErrPayment,
    /// `err_unconfirmed`: “The payment could not be confirmed. If you were charged, select “Restore purchases” later.”
    ErrUnconfirmed,
    /// `err_timeout`: “The payment is taking longer than expected. If you were charged, select “Restore purchases” later.”
    ErrTimeout,
    /// `err_refunded`: “This payment was refunded or reversed.”
    ErrRefunded,
    /// `err_receipt`: “Your purchase could not be verified. Please contact support.”
    ErrReceipt,
    /// `err_unavailable`: “Purchases are not available right now.”
    ErrUnavailable,
    /// `restore`: “Restore purchases”
    Restore,
    /// `restoring`: “Restoring…”
    Restoring,
    /// `restored_status`: “Purchases restored: {count}.”
    RestoredStatus,
    /// `restored_none`: “No purchases to restore.”
    RestoredNone,
}

/// The UI strings of §7.9, exact text, columns in [`Locale::ALL`] order. French strings use a
/// no-break space (U+00A0) before `:` and inside « ». Placeholders: `{name}`, `{code}`,
/// `{count}` (see [`format_message`]).
#[rustfmt::skip]
pub const STRINGS: [(MessageKey, [&str; 6]); 33] = [
    (MessageKey::Buy, ["Buy", "Kaufen", "Acheter", "Comprar", "Comprar", "購買"]),
    (MessageKey::BuyNamed, ["Buy {name}", "{name} kaufen", "Acheter {name}", "Comprar {name}", "Comprar {name}", "購買「{name}」"]),
    (MessageKey::Preparing, ["Preparing…", "Wird vorbereitet…", "Préparation…", "Preparando…", "Preparando…", "準備中…"]),
    (MessageKey::PreparingStatus, ["Preparing your purchase…", "Ihr Kauf wird vorbereitet…", "Préparation de votre achat…", "Preparando tu compra…", "Preparando sua compra…", "正在準備您的購買…"]),
    (MessageKey::PopupLoading, ["Loading payment…", "Zahlung wird geladen…", "Chargement du paiement…", "Cargando el pago…", "Carregando o pagamento…", "正在載入付款…"]),
    (MessageKey::Paying, ["Paying…", "Zahlung läuft…", "Paiement en cours…", "Pagando…", "Pagando…", "付款中…"]),
    (MessageKey::PayingStatus, ["Complete the payment for {name} in the payment window.", "Schließen Sie die Zahlung für {name} im Zahlungsfenster ab.", "Terminez le paiement de {name} dans la fenêtre de paiement.", "Completa el pago de {name} en la ventana de pago.", "Conclua o pagamento de {name} na janela de pagamento.", "請在付款視窗中完成「{name}」的付款。"]),
    (MessageKey::PopupBlockedStatus, ["The payment window was blocked. Select “Open payment window” to continue.", "Das Zahlungsfenster wurde blockiert. Wählen Sie „Zahlungsfenster öffnen“, um fortzufahren.", "La fenêtre de paiement a été bloquée. Sélectionnez «\u{A0}Ouvrir la fenêtre de paiement\u{A0}» pour continuer.", "Se bloqueó la ventana de pago. Selecciona «Abrir ventana de pago» para continuar.", "A janela de pagamento foi bloqueada. Selecione “Abrir janela de pagamento” para continuar.", "付款視窗遭到封鎖。請選擇「開啟付款視窗」以繼續。"]),
    (MessageKey::OpenPaymentWindow, ["Open payment window", "Zahlungsfenster öffnen", "Ouvrir la fenêtre de paiement", "Abrir ventana de pago", "Abrir janela de pagamento", "開啟付款視窗"]),
    (MessageKey::Cancel, ["Cancel", "Abbrechen", "Annuler", "Cancelar", "Cancelar", "取消"]),
    (MessageKey::Waiting, ["Confirming…", "Wird bestätigt…", "Confirmation…", "Confirmando…", "Confirmando…", "確認中…"]),
    (MessageKey::WaitingStatus, ["Waiting for the payment to be confirmed…", "Warten auf die Zahlungsbestätigung…", "En attente de la confirmation du paiement…", "Esperando la confirmación del pago…", "Aguardando a confirmação do pagamento…", "正在等待付款確認…"]),
    (MessageKey::Finishing, ["Finishing…", "Wird abgeschlossen…", "Finalisation…", "Finalizando…", "Finalizando…", "即將完成…"]),
    (MessageKey::InstallingStatus, ["Saving your receipt…", "Ihr Beleg wird gespeichert…", "Enregistrement de votre reçu…", "Guardando tu recibo…", "Salvando seu recibo…", "正在儲存您的收據…"]),
    (MessageKey::VerifyingStatus, ["Checking your receipt…", "Ihr Beleg wird geprüft…", "Vérification de votre reçu…", "Verificando tu recibo…", "Verificando seu recibo…", "正在驗證您的收據…"]),
    (MessageKey::Purchased, ["Purchased", "Gekauft", "Acheté", "Comprado", "Comprado", "已購買"]),
    (MessageKey::PurchasedStatus, ["Purchase complete: {name}.", "Kauf abgeschlossen: {name}.", "Achat terminé\u{A0}: {name}.", "Compra completada: {name}.", "Compra concluída: {name}.", "購買完成：{name}。"]),
    (MessageKey::TestBadge, ["Test purchase", "Testkauf", "Achat de test", "Compra de prueba", "Compra de teste", "測試購買"]),
    (MessageKey::CancelledStatus, ["Payment cancelled.", "Zahlung abgebrochen.", "Paiement annulé.", "Pago cancelado.", "Pagamento cancelado.", "付款已取消。"]),
    (MessageKey::Retry, ["Try again", "Erneut versuchen", "Réessayer", "Reintentar", "Tentar novamente", "再試一次"]),
    (MessageKey::ErrorCode, ["Error code: {code}", "Fehlercode: {code}", "Code d’erreur\u{A0}: {code}", "Código de error: {code}", "Código de erro: {code}", "錯誤代碼：{code}"]),
    (MessageKey::ErrNetwork, ["Could not reach the server. Check your connection and try again.", "Der Server ist nicht erreichbar. Prüfen Sie Ihre Verbindung und versuchen Sie es erneut.", "Impossible de joindre le serveur. Vérifiez votre connexion et réessayez.", "No se pudo conectar con el servidor. Comprueba tu conexión e inténtalo de nuevo.", "Não foi possível acessar o servidor. Verifique sua conexão e tente novamente.", "無法連線至伺服器。請檢查網路連線後再試一次。"]),
    (MessageKey::ErrServer, ["The store server sent an unexpected answer. Please try again later.", "Der Shop-Server hat unerwartet geantwortet. Bitte versuchen Sie es später erneut.", "Le serveur de la boutique a renvoyé une réponse inattendue. Veuillez réessayer plus tard.", "El servidor de la tienda envió una respuesta inesperada. Vuelve a intentarlo más tarde.", "O servidor da loja enviou uma resposta inesperada. Tente novamente mais tarde.", "商店伺服器傳回了非預期的回應。請稍後再試。"]),
    (MessageKey::ErrPayment, ["The payment failed. You have not been charged.", "Die Zahlung ist fehlgeschlagen. Es wurde nichts abgebucht.", "Le paiement a échoué. Vous n’avez pas été débité.", "El pago no se completó. No se te ha cobrado nada.", "O pagamento falhou. Você não foi cobrado.", "付款失敗，您未被收取任何費用。"]),
    (MessageKey::ErrUnconfirmed, ["The payment could not be confirmed. If you were charged, select “Restore purchases” later.", "Die Zahlung konnte nicht bestätigt werden. Falls Ihnen etwas berechnet wurde, wählen Sie später „Käufe wiederherstellen“.", "Le paiement n’a pas pu être confirmé. Si vous avez été débité, sélectionnez «\u{A0}Restaurer les achats\u{A0}» plus tard.", "No se pudo confirmar el pago. Si se te cobró, selecciona «Restaurar compras» más tarde.", "Não foi possível confirmar o pagamento. Se você foi cobrado, selecione “Restaurar compras” mais tarde.", "無法確認付款。若您已被扣款，請稍後選擇「還原購買項目」。"]),
    (MessageKey::ErrTimeout, ["The payment is taking longer than expected. If you were charged, select “Restore purchases” later.", "Die Zahlung dauert länger als erwartet. Falls Ihnen etwas berechnet wurde, wählen Sie später „Käufe wiederherstellen“.", "Le paiement prend plus de temps que prévu. Si vous avez été débité, sélectionnez «\u{A0}Restaurer les achats\u{A0}» plus tard.", "El pago está tardando más de lo esperado. Si se te cobró, selecciona «Restaurar compras» más tarde.", "O pagamento está demorando mais que o esperado. Se você foi cobrado, selecione “Restaurar compras” mais tarde.", "付款處理時間比預期更久。若您已被扣款，請稍後選擇「還原購買項目」。"]),
    (MessageKey::ErrRefunded, ["This payment was refunded or reversed.", "Diese Zahlung wurde erstattet oder rückgebucht.", "Ce paiement a été remboursé ou annulé.", "Este pago se reembolsó o se revirtió.", "Este pagamento foi reembolsado ou estornado.", "此筆付款已退款或撤銷。"]),
    (MessageKey::ErrReceipt, ["Your purchase could not be verified. Please contact support.", "Ihr Kauf konnte nicht überprüft werden. Bitte wenden Sie sich an den Support.", "Votre achat n’a pas pu être vérifié. Veuillez contacter l’assistance.", "No se pudo verificar tu compra. Ponte en contacto con el servicio de asistencia.", "Não foi possível verificar sua compra. Entre em contato com o suporte.", "無法驗證您的購買。請聯絡客服。"]),
    (MessageKey::ErrUnavailable, ["Purchases are not available right now.", "Käufe sind derzeit nicht möglich.", "Les achats ne sont pas disponibles pour le moment.", "Las compras no están disponibles en este momento.", "As compras não estão disponíveis no momento.", "目前無法進行購買。"]),
    (MessageKey::Restore, ["Restore purchases", "Käufe wiederherstellen", "Restaurer les achats", "Restaurar compras", "Restaurar compras", "還原購買項目"]),
    (MessageKey::Restoring, ["Restoring…", "Wird wiederhergestellt…", "Restauration…", "Restaurando…", "Restaurando…", "還原中…"]),
    (MessageKey::RestoredStatus, ["Purchases restored: {count}.", "Wiederhergestellte Käufe: {count}.", "Achats restaurés\u{A0}: {count}.", "Compras restauradas: {count}.", "Compras restauradas: {count}.", "已還原的購買項目：{count}。"]),
    (MessageKey::RestoredNone, ["No purchases to restore.", "Keine Käufe zum Wiederherstellen.", "Aucun achat à restaurer.", "No hay compras para restaurar.", "Nenhuma compra para restaurar.", "沒有可還原的購買項目。"]),
];

impl MessageKey {
    /// The key as the spec writes it (`buy_named`, `err_network`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            MessageKey::Buy => "buy",
            MessageKey::BuyNamed => "buy_named",
            MessageKey::Preparing => "preparing",
            MessageKey::PreparingStatus => "preparing_status",
            MessageKey::PopupLoading => "popup_loading",
            MessageKey::Paying => "paying",
            MessageKey::PayingStatus => "paying_status",
            MessageKey::PopupBlockedStatus => "popup_blocked_status",
            MessageKey::OpenPaymentWindow => "open_payment_window",
            MessageKey::Cancel => "cancel",
            MessageKey::Waiting => "waiting",
            MessageKey::WaitingStatus => "waiting_status",
            MessageKey::Finishing => "finishing",
            MessageKey::InstallingStatus => "installing_status",
            MessageKey::VerifyingStatus => "verifying_status",
            MessageKey::Purchased => "purchased",
            MessageKey::PurchasedStatus => "purchased_status",
            MessageKey::TestBadge => "test_badge",
            MessageKey::CancelledStatus => "cancelled_status",
            MessageKey::Retry => "retry",
            MessageKey::ErrorCode => "error_code",
            MessageKey::ErrNetwork => "err_network",
            MessageKey::ErrServer => "err_server",
            MessageKey::ErrPayment => "err_payment",
            MessageKey::ErrUnconfirmed => "err_unconfirmed",
            MessageKey::ErrTimeout => "err_timeout",
            MessageKey::ErrRefunded => "err_refunded",
            MessageKey::ErrReceipt => "err_receipt",
            MessageKey::ErrUnavailable => "err_unavailable",
            MessageKey::Restore => "restore",
            MessageKey::Restoring => "restoring",
            MessageKey::RestoredStatus => "restored_status",
            MessageKey::RestoredNone => "restored_none",
        }
    }

    /// Looks a key up by its spec name.
    pub fn from_key(key: &str) -> Option<MessageKey> {
        STRINGS.iter().map(|(k, _)| *k).find(|k| k.as_str() == key)
    }

    /// The raw text in `locale`, placeholders not substituted.
    pub fn text(self, locale: Locale) -> &'static str {
        STRINGS
            .iter()
            .find(|(k, _)| *k == self)
            .and_then(|(_, texts)| texts.get(locale.column()))
            .copied()
            .unwrap_or_default()
    }
}

/// Values for the placeholders of a UI string.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MessageArgs<'a> {
    /// `{name}`: the product name.
    pub name: Option<&'a str>,
    /// `{code}`: an error code.
    pub code: Option<&'a str>,
    /// `{count}`: a number, formatted as `Intl.NumberFormat(<UI locale>)` does.
    pub count: Option<u64>,
}

/// The text of `key` in `locale` with its placeholders substituted in one pass (a substituted
/// value is never scanned again). A placeholder without a value stays as written. The result is
/// text: the UI inserts it as a text node only.
pub fn format_message(key: MessageKey, locale: Locale, args: MessageArgs<'_>) -> String {
    let text = key.text(locale);
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find('{') {
        out.push_str(rest.get(..i).unwrap_or_default());
        let tail = rest.get(i..).unwrap_or_default();
        let (value, len) = if tail.starts_with("{name}") {
            (args.name.map(str::to_owned), 6)
        } else if tail.starts_with("{code}") {
            (args.code.map(str::to_owned), 6)
        } else if tail.starts_with("{count}") {
            (args.count.map(|n| format_count(n, locale)), 7)
        } else {
            (None, 1)
        };
        match value {
            Some(v) => out.push_str(&v),
            None => out.push_str(tail.get(..len).unwrap_or_default()),
        }
        rest = tail.get(len..).unwrap_or_default();
    }
    out.push_str(rest);
    out
}

/// An integer as `Intl.NumberFormat(locale).format(n)` writes it: groups of three with `,`
/// (`en`, `zh-TW`), `.` (`de`, `pt-BR`; `es` only from 10 000 on) or U+202F (`fr`).
pub fn format_count(n: u64, locale: Locale) -> String {
    let digits = n.to_string();
    let sep = match locale {
        Locale::En | Locale::ZhTw => ",",
        Locale::De | Locale::PtBr => ".",
        Locale::Es if n >= 10_000 => ".",
        Locale::Es => return digits,
        Locale::Fr => "\u{202F}",
    };
    // Groups of three from the right (the digits are ASCII).
    let mut groups = Vec::new();
    let mut end = digits.len();
    while end > 3 {
        groups.push(digits.get(end - 3..end).unwrap_or_default());
        end -= 3;
    }
    groups.push(digits.get(..end).unwrap_or_default());
    groups.reverse();
    groups.join(sep)
}

/// Localised product text from the pay JWT's `request` (§7.9 "Product text"). Display only.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ProductText {
    /// The localised product name, if any.
    pub name: Option<String>,
    /// The localised description, if any.
    pub description: Option<String>,
    /// The tag of the chosen `locales` entry, or `defaultLocale`: the name element's `lang`.
    pub lang: Option<String>,
}

/// §7.9: picks the `request.locales` entry for `locale` (exact key, case-insensitive; otherwise
/// the first key in sorted order with the same primary language subtag; otherwise none, and the
/// top-level fields in `defaultLocale` are used). A field missing from the entry falls back to the
/// top-level field.
pub fn product_text(request: &Json, locale: Locale) -> ProductText {
    let top = |field: &str| request.get(field).and_then(Json::as_str).map(str::to_owned);
    let entries = request.get("locales").and_then(Json::as_object).unwrap_or_default();
    let exact = entries.iter().find(|(k, v)| k.eq_ignore_ascii_case(locale.tag()) && v.is_object());
    let chosen = exact.or_else(|| {
        entries
            .iter()
            .filter(|(k, v)| {
                v.is_object()
                    && k.split('-')
                        .next()
                        .is_some_and(|p| p.eq_ignore_ascii_case(locale.language()))
            })
            .min_by(|a, b| a.0.cmp(&b.0))
    });
    match chosen {
        Some((key, entry)) => {
            let field = |f: &str| entry.get(f).and_then(Json::as_str).map(str::to_owned);
            ProductText {
                name: field("name").or_else(|| top("name")),
                description: field("description").or_else(|| top("description")),
                lang: Some(key.clone()),
            }
        }
        None => ProductText {
            name: top("name"),
            description: top("description"),
            lang: top("defaultLocale"),
        },
    }
}

// ---------------------------------------------------------------------------------------------
// Error catalogue (§7.6)
// ---------------------------------------------------------------------------------------------

/// The error classes of §7.6 (an error's JS `name`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorName {
    /// `ApiRequestError`
    ApiRequestError,
    /// `ApiRequestTimeout`
    ApiRequestTimeout,
    /// `BadApiResponse`
    BadApiResponse,
    /// `BadJsonResponse`
    BadJsonResponse,
    /// `InvalidJwt`
    InvalidJwt,
    /// `ConfigurationError`
    ConfigurationError,
    /// `IncorrectUsage`
    IncorrectUsage,
    /// `PayWindowClosedByUser`
    PayWindowClosedByUser,
    /// `UserCancelled`
    UserCancelled,
    /// `PayWindowBlocked`
    PayWindowBlocked,
    /// `FailedWindowMessage`
    FailedWindowMessage,
    /// `UnknownMessageStatus`
    UnknownMessageStatus,
    /// `UnknownMessageOrigin`
    UnknownMessageOrigin,
    /// `PayPlatformError`
    PayPlatformError,
    /// `PayPlatformUnavailable`
    PayPlatformUnavailable,
    /// `PurchaseTimeout`
    PurchaseTimeout,
    /// `PaymentFailed`
    PaymentFailed,
    /// `InvalidReceipt`
    InvalidReceipt,
    /// `TestReceiptNotAllowed`
    TestReceiptNotAllowed,
    /// `AddReceiptError`
    AddReceiptError,
}

impl ErrorName {
    /// The JS `name`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorName::ApiRequestError => "ApiRequestError",
            ErrorName::ApiRequestTimeout => "ApiRequestTimeout",
            ErrorName::BadApiResponse => "BadApiResponse",
            ErrorName::BadJsonResponse => "BadJsonResponse",
            ErrorName::InvalidJwt => "InvalidJwt",
            ErrorName::ConfigurationError => "ConfigurationError",
            ErrorName::IncorrectUsage => "IncorrectUsage",
            ErrorName::PayWindowClosedByUser => "PayWindowClosedByUser",
            ErrorName::UserCancelled => "UserCancelled",
            ErrorName::PayWindowBlocked => "PayWindowBlocked",
            ErrorName::FailedWindowMessage => "FailedWindowMessage",
            ErrorName::UnknownMessageStatus => "UnknownMessageStatus",
            ErrorName::UnknownMessageOrigin => "UnknownMessageOrigin",
            ErrorName::PayPlatformError => "PayPlatformError",
            ErrorName::PayPlatformUnavailable => "PayPlatformUnavailable",
            ErrorName::PurchaseTimeout => "PurchaseTimeout",
            ErrorName::PaymentFailed => "PaymentFailed",
            ErrorName::InvalidReceipt => "InvalidReceipt",
            ErrorName::TestReceiptNotAllowed => "TestReceiptNotAllowed",
            ErrorName::AddReceiptError => "AddReceiptError",
        }
    }
}

/// The stable error codes of §7.6. Each code belongs to exactly one [`ErrorName`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// `API_REQUEST_ERROR`
    ApiRequestError,
    /// `API_REQUEST_TIMEOUT`
    ApiRequestTimeout,
    /// `BAD_API_RESPONSE`
    BadApiResponse,
    /// `INVALID_TRANSACTION_STATE`
    InvalidTransactionState,
    /// `BAD_JSON_RESPONSE`
    BadJsonResponse,
    /// `INVALID_JWT_DATA`
    InvalidJwtData,
    /// `UNEXPECTED_JWT_TYPE`
    UnexpectedJwtType,
    /// `INVALID_CONFIGURATION`
    InvalidConfiguration,
    /// `INVALID_PAY_PROVIDER_URL`
    InvalidPayProviderUrl,
    /// `INCORRECT_USAGE`
    IncorrectUsage,
    /// `DIALOG_CLOSED_BY_USER`
    DialogClosedByUser,
    /// `USER_CANCELLED`
    UserCancelled,
    /// `POPUP_BLOCKED`
    PopupBlocked,
    /// `PAY_WINDOW_FAIL_MESSAGE`
    PayWindowFailMessage,
    /// `UNKNOWN_MESSAGE_STATUS`
    UnknownMessageStatus,
    /// `UNKNOWN_MESSAGE_ORIGIN`
    UnknownMessageOrigin,
    /// `PAY_PLATFORM_ERROR`
    PayPlatformError,
    /// `PAY_PLATFORM_UNAVAILABLE`
    PayPlatformUnavailable,
    /// `TRANSACTION_TIMEOUT`
    TransactionTimeout,
    /// `PAYMENT_REFUNDED`
    PaymentRefunded,
    /// `PAYMENT_REVERSED`
    PaymentReversed,
    /// `RECEIPT_UNAVAILABLE`
    ReceiptUnavailable,
    /// `PAYMENT_FAILED`
    PaymentFailed,
    /// `INVALID_RECEIPT`
    InvalidReceipt,
    /// `INVALID_RECEIPT_PRODUCT`
    InvalidReceiptProduct,
    /// `TEST_RECEIPT_NOT_ALLOWED`
    TestReceiptNotAllowed,
    /// `ADD_RECEIPT_ERROR`
    AddReceiptError,
}

impl ErrorCode {
    /// Every code, in catalogue order.
    pub const ALL: [ErrorCode; 27] = [
        ErrorCode::ApiRequestError,
        ErrorCode::ApiRequestTimeout,
        ErrorCode::BadApiResponse,
        ErrorCode::InvalidTransactionState,
        ErrorCode::BadJsonResponse,
        ErrorCode::InvalidJwtData,
        ErrorCode::UnexpectedJwtType,
        ErrorCode::InvalidConfiguration,
        ErrorCode::InvalidPayProviderUrl,
        ErrorCode::IncorrectUsage,
        ErrorCode::DialogClosedByUser,
        ErrorCode::UserCancelled,
        ErrorCode::PopupBlocked,
        ErrorCode::PayWindowFailMessage,
        ErrorCode::UnknownMessageStatus,
        ErrorCode::UnknownMessageOrigin,
        ErrorCode::PayPlatformError,
        ErrorCode::PayPlatformUnavailable,
        ErrorCode::TransactionTimeout,
        ErrorCode::PaymentRefunded,
        ErrorCode::PaymentReversed,
        ErrorCode::ReceiptUnavailable,
        ErrorCode::PaymentFailed,
        ErrorCode::InvalidReceipt,
        ErrorCode::InvalidReceiptProduct,
        ErrorCode::TestReceiptNotAllowed,
        ErrorCode::AddReceiptError,
    ];

    /// The wire code (`API_REQUEST_ERROR`, …): the error's `code`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::ApiRequestError => "API_REQUEST_ERROR",
            ErrorCode::ApiRequestTimeout => "API_REQUEST_TIMEOUT",
            ErrorCode::BadApiResponse => "BAD_API_RESPONSE",
            ErrorCode::InvalidTransactionState => "INVALID_TRANSACTION_STATE",
            ErrorCode::BadJsonResponse => "BAD_JSON_RESPONSE",
            ErrorCode::InvalidJwtData => "INVALID_JWT_DATA",
            ErrorCode::UnexpectedJwtType => "UNEXPECTED_JWT_TYPE",
            ErrorCode::InvalidConfiguration => "INVALID_CONFIGURATION",
            ErrorCode::InvalidPayProviderUrl => "INVALID_PAY_PROVIDER_URL",
            ErrorCode::IncorrectUsage => "INCORRECT_USAGE",
            ErrorCode::DialogClosedByUser => "DIALOG_CLOSED_BY_USER",
            ErrorCode::UserCancelled => "USER_CANCELLED",
            ErrorCode::PopupBlocked => "POPUP_BLOCKED",
            ErrorCode::PayWindowFailMessage => "PAY_WINDOW_FAIL_MESSAGE",
            ErrorCode::UnknownMessageStatus => "UNKNOWN_MESSAGE_STATUS",
            ErrorCode::UnknownMessageOrigin => "UNKNOWN_MESSAGE_ORIGIN",
            ErrorCode::PayPlatformError => "PAY_PLATFORM_ERROR",
            ErrorCode::PayPlatformUnavailable => "PAY_PLATFORM_UNAVAILABLE",
            ErrorCode::TransactionTimeout => "TRANSACTION_TIMEOUT",
            ErrorCode::PaymentRefunded => "PAYMENT_REFUNDED",
            ErrorCode::PaymentReversed => "PAYMENT_REVERSED",
            ErrorCode::ReceiptUnavailable => "RECEIPT_UNAVAILABLE",
            ErrorCode::PaymentFailed => "PAYMENT_FAILED",
            ErrorCode::InvalidReceipt => "INVALID_RECEIPT",
            ErrorCode::InvalidReceiptProduct => "INVALID_RECEIPT_PRODUCT",
            ErrorCode::TestReceiptNotAllowed => "TEST_RECEIPT_NOT_ALLOWED",
            ErrorCode::AddReceiptError => "ADD_RECEIPT_ERROR",
        }
    }

    /// Looks a code up by its wire form.
    pub fn from_code(code: &str) -> Option<ErrorCode> {
        ErrorCode::ALL.iter().copied().find(|c| c.as_str() == code)
    }

    /// The class this code belongs to.
    pub fn name(self) -> ErrorName {
        use ErrorCode as C;
        match self {
            C::ApiRequestError => ErrorName::ApiRequestError,
            C::ApiRequestTimeout => ErrorName::ApiRequestTimeout,
            C::BadApiResponse | C::InvalidTransactionState => ErrorName::BadApiResponse,
            C::BadJsonResponse => ErrorName::BadJsonResponse,
            C::InvalidJwtData | C::UnexpectedJwtType => ErrorName::InvalidJwt,
            C::InvalidConfiguration | C::InvalidPayProviderUrl => ErrorName::ConfigurationError,
            C::IncorrectUsage => ErrorName::IncorrectUsage,
            C::DialogClosedByUser => ErrorName::PayWindowClosedByUser,
            C::UserCancelled => ErrorName::UserCancelled,
            C::PopupBlocked => ErrorName::PayWindowBlocked,
            C::PayWindowFailMessage => ErrorName::FailedWindowMessage,
            C::UnknownMessageStatus => ErrorName::UnknownMessageStatus,
            C::UnknownMessageOrigin => ErrorName::UnknownMessageOrigin,
            C::PayPlatformError => ErrorName::PayPlatformError,
            C::PayPlatformUnavailable => ErrorName::PayPlatformUnavailable,
            C::TransactionTimeout => ErrorName::PurchaseTimeout,
            C::PaymentRefunded | C::PaymentReversed | C::ReceiptUnavailable | C::PaymentFailed => {
                ErrorName::PaymentFailed
            }
            C::InvalidReceipt | C::InvalidReceiptProduct => ErrorName::InvalidReceipt,
            C::TestReceiptNotAllowed => ErrorName::TestReceiptNotAllowed,
            C::AddReceiptError => ErrorName::AddReceiptError,
        }
    }

    /// The localized text shown to the buyer (§7.6 "Message key"); `None` for errors that are
    /// thrown at mount or are warnings only.
    pub fn message_key(self) -> Option<MessageKey> {
        use ErrorCode as C;
        Some(match self {
            C::ApiRequestError | C::ApiRequestTimeout => MessageKey::ErrNetwork,
            C::BadApiResponse | C::InvalidTransactionState | C::BadJsonResponse => {
                MessageKey::ErrServer
            }
            C::InvalidJwtData | C::UnexpectedJwtType | C::PayPlatformUnavailable => {
                MessageKey::ErrUnavailable
            }
            C::DialogClosedByUser | C::UserCancelled | C::PopupBlocked => {
                MessageKey::CancelledStatus
            }
            C::PayWindowFailMessage | C::PayPlatformError => MessageKey::ErrPayment,
            C::UnknownMessageStatus | C::ReceiptUnavailable | C::PaymentFailed => {
                MessageKey::ErrUnconfirmed
            }
            C::TransactionTimeout => MessageKey::ErrTimeout,
            C::PaymentRefunded | C::PaymentReversed => MessageKey::ErrRefunded,
            C::InvalidReceipt | C::InvalidReceiptProduct | C::TestReceiptNotAllowed => {
                MessageKey::ErrReceipt
            }
            C::InvalidConfiguration
            | C::InvalidPayProviderUrl
            | C::IncorrectUsage
            | C::UnknownMessageOrigin
            | C::AddReceiptError => return None,
        })
    }

    /// The English developer message (the error's `message`).
    pub fn developer_message(self) -> &'static str {
        use ErrorCode as C;
        match self {
            C::ApiRequestError => "A request to the server failed with a network error.",
            C::ApiRequestTimeout => "A request to the server did not answer in time.",
            C::BadApiResponse => "The server answered with an unexpected status code or body.",
            C::InvalidTransactionState => "The status answer has no known status.",
            C::BadJsonResponse => "The server answered with a body that is not JSON.",
            C::InvalidJwtData => {
                "The pay JWT could not be decoded, is too long, or does not match the product."
            }
            C::UnexpectedJwtType => "The pay JWT's typ is not mapped in payProviderUrls.",
            C::InvalidConfiguration => "An option has an invalid value.",
            C::InvalidPayProviderUrl => "A pay provider URL template is invalid.",
            C::IncorrectUsage => "Unknown option, or the widget was used after destroy().",
            C::DialogClosedByUser => {
                "The payment window was closed before the payment was confirmed."
            }
            C::UserCancelled => "The buyer cancelled the payment.",
            C::PopupBlocked => "The payment window was blocked and the buyer cancelled.",
            C::PayWindowFailMessage => "The payment window reported a failure.",
            C::UnknownMessageStatus => "The payment window sent a message with an unknown status.",
            C::UnknownMessageOrigin => "Ignored a message from another origin or window.",
            C::PayPlatformError => "navigator.mozPay reported an error.",
            C::PayPlatformUnavailable => "Neither navigator.mozPay nor window.open is available.",
            C::TransactionTimeout => "The payment was not confirmed in time.",
            C::PaymentRefunded => "The payment was refunded.",
            C::PaymentReversed => "The payment was reversed.",
            C::ReceiptUnavailable => "The app server could not obtain a receipt for the payment.",
            C::PaymentFailed => "The app server reports that the payment failed.",
            C::InvalidReceipt => "The receipt failed verification.",
            C::InvalidReceiptProduct => "The receipt is for another product.",
            C::TestReceiptNotAllowed => {
                "Simulated payments and test receipts need allowTestReceipts: true."
            }
            C::AddReceiptError => "A receipt store failed; another store was used.",
        }
    }
}

/// A widget error (§7.6): the code and the `detail` members. The shell builds the JS `Error` with
/// `name` = [`WidgetError::name`], `code`, `message` = [`WidgetError::message`], `detail`, and the
/// `productId` and `attemptId` it knows.
#[derive(Debug, Clone, PartialEq)]
pub struct WidgetError {
    /// The stable code (it also decides the class `name` and the message key).
    pub code: ErrorCode,
    /// `detail` members in insertion order (`httpStatus`, `errorCode`, `missing`,
    /// `providerCode`, `platformCode`, `serverError`, `check`, `storeStatus`, `storeReason`,
    /// `lastError`, `origin`).
    pub detail: Vec<(&'static str, Json)>,
}

impl WidgetError {
    /// An error without detail.
    pub fn new(code: ErrorCode) -> Self {
        WidgetError { code, detail: Vec::new() }
    }

    /// Adds a detail member (builder style).
    pub fn with(mut self, name: &'static str, value: Json) -> Self {
        self.detail.push((name, value));
        self
    }

    /// Adds a string detail member.
    pub fn with_str(self, name: &'static str, value: &str) -> Self {
        self.with(name, Json::Str(value.to_owned()))
    }

    /// The class (JS `name`).
    pub fn name(&self) -> ErrorName {
        self.code.name()
    }

    /// The English developer message.
    pub fn message(&self) -> &'static str {
        self.code.developer_message()
    }

    /// The buyer-facing message key, if any.
    pub fn message_key(&self) -> Option<MessageKey> {
        self.code.message_key()
    }

    /// A detail member.
    pub fn detail(&self, name: &str) -> Option<&Json> {
        self.detail.iter().find(|(n, _)| *n == name).map(|(_, v)| v)
    }

    /// `detail` as a JSON object.
    pub fn detail_json(&self) -> Json {
        Json::Obj(self.detail.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect())
    }

    /// `{name, code, httpStatus?}`: the `detail.lastError` form of §7.4.
    fn summary(&self) -> Json {
        let mut m = vec![
            ("name".to_owned(), Json::Str(self.name().as_str().to_owned())),
            ("code".to_owned(), Json::Str(self.code.as_str().to_owned())),
        ];
        if let Some(s) = self.detail("httpStatus") {
            m.push(("httpStatus".to_owned(), s.clone()));
        }
        Json::Obj(m)
    }
}

fn config_error(code: ErrorCode, option: &str) -> WidgetError {
    WidgetError::new(code).with_str("option", option)
}

// ---------------------------------------------------------------------------------------------
// Configuration (§7.1, §5.1, §5.2)
// ---------------------------------------------------------------------------------------------

/// `encodeURIComponent`: everything but `A–Z a–z 0–9 - _ . ! ~ * ' ( )` is percent-encoded as
/// UTF-8 with upper-case hex.
pub fn encode_uri_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// §7.1 `buyUrl`: `{id}` (every occurrence) replaced by `encodeURIComponent(productId)`.
pub fn buy_url(template: &str, product_id: &str) -> String {
    template.replace("{id}", &encode_uri_component(product_id))
}

/// §7.1: a product id has 1 to 255 characters.
pub fn validate_product_id(product_id: &str) -> Result<(), WidgetError> {
    let n = product_id.chars().count();
    if (1..=MAX_PRODUCT_ID_CHARS).contains(&n) {
        Ok(())
    } else {
        Err(config_error(ErrorCode::InvalidConfiguration, "productId"))
    }
}

/// The `window.open` features of §5.2, centred on the opener:
/// `L = round(screenX + (outerWidth - W) / 2)`, `T = round(screenY + (outerHeight - H) / 2)`
/// (JS `Math.round`).
pub fn popup_features(
    screen_x: f64,
    screen_y: f64,
    outer_width: f64,
    outer_height: f64,
    width: f64,
    height: f64,
) -> String {
    let round = |x: f64| {
        if x.is_finite() {
            (x + 0.5).floor()
        } else {
            0.0
        }
    };
    let left = round(screen_x + (outer_width - width) / 2.0);
    let top = round(screen_y + (outer_height - height) / 2.0);
    format!(
        "popup=yes,width={},height={},left={},top={},resizable=yes,scrollbars=yes,location=yes,toolbar=no,menubar=no,status=no",
        json::number_to_js_string(width),
        json::number_to_js_string(height),
        json::number_to_js_string(left),
        json::number_to_js_string(top),
    )
}

/// One pay URL template with its pay origin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderUrl {
    /// The template, containing `{jwt}` once.
    pub template: String,
    /// The origin of every URL the template produces (the `postMessage` origin, §5.4).
    pub origin: String,
}

/// The `typ` → pay URL template map (§5.1), validated.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PayProviders {
    entries: Vec<(String, ProviderUrl)>,
}

/// §5.1 template rules: an absolute URL, `https` or `http` on a loopback host, `{jwt}` exactly
/// once. Also (mozmarket's hardening) the placeholder must not be able to change the origin, so
/// that the pay origin is known before the JWT is: the template is parsed with two different
/// substitutions and both must give the same origin. Returns that origin.
pub fn validate_pay_url_template(
    template: &str,
    urls: &dyn UrlParser,
) -> Result<String, WidgetError> {
    let bad = || config_error(ErrorCode::InvalidPayProviderUrl, "payProviderUrls");
    if template.matches("{jwt}").count() != 1 {
        return Err(bad());
    }
    let parts_a = urls.parse(&template.replace("{jwt}", "a.b.c")).ok_or_else(bad)?;
    let parts_b = urls.parse(&template.replace("{jwt}", "x")).ok_or_else(bad)?;
    let scheme_ok =
        parts_a.scheme == "https" || (parts_a.scheme == "http" && is_loopback_host(&parts_a.host));
    let o = origin(&parts_a);
    if !scheme_ok || parts_a.host.is_empty() || o != origin(&parts_b) {
        return Err(bad());
    }
    Ok(o)
}

impl PayProviders {
    /// Validates a map (`payProviderUrls`, then `extraProviderUrls` merged over it: pass both in
    /// that order; a later entry for the same `typ` replaces the earlier one).
    pub fn new<'a>(
        entries: impl IntoIterator<Item = (&'a str, &'a str)>,
        urls: &dyn UrlParser,
    ) -> Result<PayProviders, WidgetError> {
        let mut out = PayProviders::default();
        for (typ, template) in entries {
            let origin = validate_pay_url_template(template, urls)?;
            let value = ProviderUrl { template: template.to_owned(), origin };
            match out.entries.iter_mut().find(|(t, _)| t == typ) {
                Some(slot) => slot.1 = value,
                None => out.entries.push((typ.to_owned(), value)),
            }
        }
        Ok(out)
    }

    /// The default map of §5.1 for a provider origin:
    /// `{"mozilla/payments/pay/v1": "<providerOrigin>/mozpay/?req={jwt}"}`, with `extra` merged
    /// over it.
    pub fn with_default<'a>(
        provider_origin: &str,
        extra: impl IntoIterator<Item = (&'a str, &'a str)>,
        urls: &dyn UrlParser,
    ) -> Result<PayProviders, WidgetError> {
        let default = default_pay_url_template(provider_origin);
        let extra: Vec<(&str, &str)> = extra.into_iter().collect();
        PayProviders::new(std::iter::once((PAY_TYP, default.as_str())).chain(extra), urls)
    }

    /// The entry for `typ`.
    pub fn get(&self, typ: &str) -> Option<&ProviderUrl> {
        self.entries.iter().find(|(t, _)| t == typ).map(|(_, u)| u)
    }

    /// The pay URL for a JWT (`{jwt}` replaced by `encodeURIComponent(jwt)`) and its origin.
    pub fn pay_url(&self, typ: &str, jwt: &str) -> Option<(String, String)> {
        self.get(typ)
            .map(|u| (u.template.replace("{jwt}", &encode_uri_component(jwt)), u.origin.clone()))
    }
}

/// `<providerOrigin>/mozpay/?req={jwt}` (a trailing `/` of the origin is dropped).
pub fn default_pay_url_template(provider_origin: &str) -> String {
    format!("{}/mozpay/?req={{jwt}}", provider_origin.trim_end_matches('/'))
}

/// The timing options of §7.1 (milliseconds), with the spec's defaults.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Timing {
    /// `apiTimeoutMs`: per HTTP request (the shell aborts after it).
    pub api_timeout_ms: f64,
    /// `pollInitialMs`: `d_1`.
    pub poll_initial_ms: f64,
    /// `pollMaxMs`: the cap on `d_k`.
    pub poll_max_ms: f64,
    /// `pollFactor`: `d_{k+1} = d_k × pollFactor` (capped).
    pub poll_factor: f64,
    /// `pollJitter`: waits are `d_k × U(1 - pollJitter, 1 + pollJitter)`.
    pub poll_jitter: f64,
    /// `purchaseTimeoutMs`: the overall limit of `waiting`.
    pub purchase_timeout_ms: f64,
    /// `closedGraceMs`: the closed-window grace period (§5.5).
    pub closed_grace_ms: f64,
    /// `windowPollMs`: how often `popup.closed` is checked.
    pub window_poll_ms: f64,
    /// `unloadedGraceMs`: the wait after an `unloaded` message.
    pub unloaded_grace_ms: f64,
}

impl Default for Timing {
    fn default() -> Self {
        Timing {
            api_timeout_ms: 10_000.0,
            poll_initial_ms: 250.0,
            poll_max_ms: 2_000.0,
            poll_factor: 2.0,
            poll_jitter: 0.1,
            purchase_timeout_ms: 120_000.0,
            closed_grace_ms: 3_000.0,
            window_poll_ms: 500.0,
            unloaded_grace_ms: 300.0,
        }
    }
}

impl Timing {
    /// §7.1: numbers finite, durations > 0, `pollMaxMs >= pollInitialMs`. mozmarket also requires
    /// `pollFactor >= 1` and `0 <= pollJitter < 1`, so waits never shrink or go negative.
    /// Errors are `ConfigurationError` (`INVALID_CONFIGURATION`, `detail.option`).
    pub fn validate(&self) -> Result<(), WidgetError> {
        let durations = [
            ("apiTimeoutMs", self.api_timeout_ms),
            ("pollInitialMs", self.poll_initial_ms),
            ("pollMaxMs", self.poll_max_ms),
            ("purchaseTimeoutMs", self.purchase_timeout_ms),
            ("closedGraceMs", self.closed_grace_ms),
            ("windowPollMs", self.window_poll_ms),
            ("unloadedGraceMs", self.unloaded_grace_ms),
        ];
        let bad = |name| Err(config_error(ErrorCode::InvalidConfiguration, name));
        for (name, v) in durations {
            if !(v.is_finite() && v > 0.0) {
                return bad(name);
            }
        }
        if self.poll_max_ms < self.poll_initial_ms {
            return bad("pollMaxMs");
        }
        if !(self.poll_factor.is_finite() && self.poll_factor >= 1.0) {
            return bad("pollFactor");
        }
        if !(self.poll_jitter.is_finite() && (0.0..1.0).contains(&self.poll_jitter)) {
            return bad("pollJitter");
        }
        Ok(())
    }

    /// §7.4: the wait `d_k × U(1 - pollJitter, 1 + pollJitter)`, where `sample` is a uniform
    /// draw from `[0, 1)` taken by the shell (`Math.random()`); out-of-range samples are clamped
    /// and NaN counts as 0.5.
    pub fn jittered(&self, d_k: f64, sample: f64) -> f64 {
        let u = if sample.is_nan() { 0.5 } else { sample.clamp(0.0, 1.0) };
        (d_k * (1.0 - self.poll_jitter + 2.0 * self.poll_jitter * u)).max(0.0)
    }

    /// §7.4: `d_{k+1} = min(d_k × pollFactor, pollMaxMs)`.
    pub fn next_delay(&self, d_k: f64) -> f64 {
        (d_k * self.poll_factor).min(self.poll_max_ms)
    }
}

/// How the widget pays (§5.6, §7.6 `PayPlatformUnavailable`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PayPath {
    /// The popup web flow.
    Popup,
    /// `navigator.mozPay([jwt])`; no popup.
    MozPay,
    /// Neither is available: an activation fails with `PayPlatformUnavailable`.
    Unavailable,
}

/// §5.6: `useMozPay` `"auto"` with `typeof navigator.mozPay === "function"` → mozPay; otherwise
/// the popup when `window.open` is a function; otherwise unavailable.
pub fn choose_pay_path(
    use_mozpay_auto: bool,
    mozpay_is_function: bool,
    window_open_is_function: bool,
) -> PayPath {
    if use_mozpay_auto && mozpay_is_function {
        PayPath::MozPay
    } else if window_open_is_function {
        PayPath::Popup
    } else {
        PayPath::Unavailable
    }
}

/// §5.6 default of `onBrokenWebRT`: `mozPay` exists and the user agent lacks `Mobile`.
pub fn default_on_broken_webrt(mozpay_present: bool, user_agent: &str) -> bool {
    mozpay_present && !user_agent.contains("Mobile")
}

/// What [`reduce`] reads: the validated mount options, resolved against the environment.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// `productId` (see [`validate_product_id`]).
    pub product_id: String,
    /// `productName`: used until the JWT supplies a localized name.
    pub product_name: Option<String>,
    /// `label`: replaces the idle button text.
    pub label: Option<String>,
    /// `consumable`: `purchased` returns to `idle` at once.
    pub consumable: bool,
    /// `owned`: start in `purchased`.
    pub owned: bool,
    /// Popup, mozPay or neither ([`choose_pay_path`]).
    pub pay_path: PayPath,
    /// `onBrokenWebRT` ([`default_on_broken_webrt`]).
    pub on_broken_webrt: bool,
    /// `allowTestReceipts`.
    pub allow_test_receipts: bool,
    /// `payProviderUrls` merged with `extraProviderUrls`.
    pub providers: PayProviders,
    /// Timing options.
    pub timing: Timing,
    /// `useEventStream` and `EventSource` exists.
    pub use_event_stream: bool,
    /// The negotiated UI locale.
    pub locale: Locale,
}

impl Config {
    /// A configuration with the spec's defaults for everything but the product and providers:
    /// popup path, no test receipts, event stream on, English.
    pub fn new(product_id: &str, providers: PayProviders) -> Config {
        Config {
            product_id: product_id.to_owned(),
            product_name: None,
            label: None,
            consumable: false,
            owned: false,
            pay_path: PayPath::Popup,
            on_broken_webrt: false,
            allow_test_receipts: false,
            providers,
            timing: Timing::default(),
            use_event_stream: true,
            locale: Locale::En,
        }
    }

    /// The checks of §7.1 that concern these fields.
    pub fn validate(&self) -> Result<(), WidgetError> {
        validate_product_id(&self.product_id)?;
        self.timing.validate()
    }
}

// ---------------------------------------------------------------------------------------------
// Inputs from the shell
// ---------------------------------------------------------------------------------------------

/// The outcome of an HTTP request made by the shell.
#[derive(Debug, Clone, PartialEq)]
pub enum HttpAnswer {
    /// `fetch` rejected (network error, CORS failure).
    NetworkError,
    /// No answer within `apiTimeoutMs` (the request was aborted).
    Timeout,
    /// An HTTP response.
    Response {
        /// The HTTP status.
        status: u16,
        /// The body text.
        body: String,
        /// `Retry-After` in seconds, when present and numeric.
        retry_after_secs: Option<f64>,
    },
}

impl HttpAnswer {
    /// A response without `Retry-After`.
    pub fn response(status: u16, body: &str) -> HttpAnswer {
        HttpAnswer::Response { status, body: body.to_owned(), retry_after_secs: None }
    }
}

/// `event.data` of a `message` event, as the shell sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MessageData {
    /// A plain object whose `status` is a string. `error_code` is its `errorCode` when that is a
    /// string (`None` when missing or of another type).
    Status { status: String, error_code: Option<String> },
    /// Anything else (a JSON string, an array, an object without a string `status`, …).
    Other,
}

/// The DOMRequest outcome of `navigator.mozPay([jwt])` (or its synchronous exception).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MozPayOutcome {
    /// `onsuccess`.
    Success,
    /// `onerror` with `error.name`, or the name of a synchronous exception.
    Error(String),
}

/// The checks of the local receipt verification (§7.5 `detail.check`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LocalCheck {
    /// `parse`: the receipt does not parse strictly.
    Parse,
    /// `signature`: the certificate chain does not verify against `trustedRoots`.
    Signature,
    /// `issuer`: the certificate's `iss` is not a configured root.
    Issuer,
    /// `type`: `typ` is not `purchase-receipt` (or an allowed `test-receipt`).
    Type,
    /// `typ` is `test-receipt` while `allowTestReceipts` is false (check `type`, class
    /// `TestReceiptNotAllowed`).
    TestReceipt,
    /// `product_url`: `product.url` is not `appOrigin`.
    ProductUrl,
    /// `product_id`: `storedata`'s `inapp_id` is not the product id.
    ProductId,
    /// `verify_url`: the verify URL is outside `receiptCheckSites`.
    VerifyUrl,
    /// `time`: `nbf` or `exp` fails (± 60 s).
    Time,
}

impl LocalCheck {
    /// The `detail.check` value.
    pub fn as_str(self) -> &'static str {
        match self {
            LocalCheck::Parse => "parse",
            LocalCheck::Signature => "signature",
            LocalCheck::Issuer => "issuer",
            LocalCheck::Type | LocalCheck::TestReceipt => "type",
            LocalCheck::ProductUrl => "product_url",
            LocalCheck::ProductId => "product_id",
            LocalCheck::VerifyUrl => "verify_url",
            LocalCheck::Time => "time",
        }
    }

    /// §7.5: the error for a failed local check.
    pub fn error(self) -> WidgetError {
        let code = match self {
            LocalCheck::TestReceipt => ErrorCode::TestReceiptNotAllowed,
            LocalCheck::ProductId => ErrorCode::InvalidReceiptProduct,
            _ => ErrorCode::InvalidReceipt,
        };
        WidgetError::new(code).with_str("check", self.as_str())
    }
}

/// The result of the local verification run by the shell with the receipt verifier (§7.5
/// stage 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LocalVerdict {
    /// All checks passed; `test` when the receipt `typ` is `test-receipt`.
    Passed { test: bool },
    /// The first failing check.
    Failed(LocalCheck),
}

/// The timers the reducer schedules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TimerKind {
    /// Check `popup.closed` (every `windowPollMs` during `paying`, §5.5).
    WindowCheck,
    /// `unloadedGraceMs` after an `unloaded` message (§5.4).
    UnloadedCheck,
    /// The next status poll (§7.4).
    Poll,
    /// End of the closed-window grace period (§5.5).
    GraceEnd,
    /// `purchaseTimeoutMs` after entering `waiting` (§7.4).
    PurchaseTimeout,
}

/// An event from the shell.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// The main button was activated (click, Enter or Space). `attempt_id` is a fresh UUID v4
    /// made by the shell; it is used only if this activation starts an attempt.
    Activate { attempt_id: String },
    /// The synchronous result of [`Effect::OpenBlankPopup`] or [`Effect::OpenPopup`]: `blocked`
    /// when `window.open` returned `null` or an already closed window.
    PopupOpened { blocked: bool },
    /// "Open payment window" in the blocked sub-state (§5.2).
    OpenPaymentWindow,
    /// "Cancel" in the blocked sub-state (§5.2).
    CancelBlocked,
    /// The answer to [`Effect::PostBuy`].
    BuyAnswer { attempt_id: String, answer: HttpAnswer },
    /// The result of [`Effect::CallMozPay`].
    MozPayResult { attempt_id: String, outcome: MozPayOutcome },
    /// A `message` event on the host window while the listener is attached. `from_popup` is
    /// `event.source === popup`.
    Message { origin: String, from_popup: bool, data: MessageData },
    /// A timer fired. `popup_closed` is `popup.closed` now (`true` when there is no popup).
    TimerFired { attempt_id: String, timer: TimerKind, popup_closed: bool },
    /// The answer to [`Effect::GetStatus`]. `jitter_sample` is a uniform draw from `[0, 1)`
    /// (`Math.random()`) for the next wait.
    StatusAnswer { attempt_id: String, answer: HttpAnswer, jitter_sample: f64 },
    /// A `status` event of the stream opened by [`Effect::OpenEventStream`] (its `data`).
    StatusEvent { attempt_id: String, data: String },
    /// The first `error` event of that stream.
    StreamError { attempt_id: String },
    /// [`Effect::InstallReceipt`] finished: the receipt is stored somewhere (memory at worst).
    /// `added` is true when this attempt added it (false when it was already there).
    /// `warnings` are the `platformCode`s of stores that failed on the way (each becomes an
    /// `AddReceiptError` warning).
    ReceiptInstalled { attempt_id: String, added: bool, warnings: Vec<String> },
    /// The result of [`Effect::VerifyLocally`].
    LocalVerification { attempt_id: String, verdict: LocalVerdict },
    /// The answer to [`Effect::VerifyWithStore`].
    StoreAnswer { attempt_id: String, answer: HttpAnswer },
    /// `handle.reset()`: back to `idle` from `failed`, `cancelled` or `purchased`.
    Reset,
    /// `handle.destroy()`: clean up; no events afterwards.
    Destroy,
}

// ---------------------------------------------------------------------------------------------
// Outputs to the shell
// ---------------------------------------------------------------------------------------------

/// Where focus goes (§7.10; the shell moves it only when focus is on `<body>` or inside the
/// widget).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FocusTarget {
    /// The widget's main button.
    MainButton,
    /// The "Open payment window" button of the blocked sub-state.
    OpenPaymentWindow,
}

/// Which live region an announcement goes to (§7.10).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Politeness {
    /// `role="status"`, `aria-live="polite"`.
    Polite,
    /// `role="alert"`.
    Alert,
}

/// The verify-service outcome reported in `verification.store` (§7.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreVerdict {
    /// The verify service answered `ok`.
    Ok,
    /// The verify service answered `pending`.
    Pending,
    /// No usable answer (network error, timeout, non-200, bad JSON, unknown status).
    Unreachable,
}

impl StoreVerdict {
    /// `ok`, `pending` or `unreachable`.
    pub fn as_str(self) -> &'static str {
        match self {
            StoreVerdict::Ok => "ok",
            StoreVerdict::Pending => "pending",
            StoreVerdict::Unreachable => "unreachable",
        }
    }
}

/// Why an attempt was cancelled (`mozmarket-cancelled` `detail.reason`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CancelReason {
    /// The provider (or mozPay) reported `USER_CANCELLED`.
    UserCancelled,
    /// The popup closed and the grace period found no completion (or mozPay's dialog closed).
    DialogClosedByUser,
    /// The buyer chose *Cancel* after the popup was blocked.
    PopupBlocked,
}

impl CancelReason {
    /// The `detail.reason` value: `USER_CANCELLED`, `DIALOG_CLOSED_BY_USER` or `POPUP_BLOCKED`.
    pub fn as_str(self) -> &'static str {
        self.code().as_str()
    }

    /// The error code of the cancellation's error object.
    pub fn code(self) -> ErrorCode {
        match self {
            CancelReason::UserCancelled => ErrorCode::UserCancelled,
            CancelReason::DialogClosedByUser => ErrorCode::DialogClosedByUser,
            CancelReason::PopupBlocked => ErrorCode::PopupBlocked,
        }
    }
}

/// `mozmarket-purchase` `detail` (§7.7).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PurchaseDetail {
    /// The product bought.
    pub product_id: String,
    /// The app server's order id.
    pub order_id: String,
    /// `transactionID` of the `complete` status (`None` if the server omitted it).
    pub transaction_id: Option<String>,
    /// The installed receipt.
    pub receipt: String,
    /// The receipt is a `test-receipt`.
    pub test: bool,
    /// `verification.store` (`verification.local` is always `"ok"`).
    pub store: StoreVerdict,
    /// The attempt id.
    pub attempt_id: String,
}

/// A widget event (§7.7). The shell dispatches it as a `CustomEvent` on the mount element
/// (`bubbles`, `composed`, not cancelable) after calling the matching callback.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// `mozmarket-statechange`.
    StateChange {
        /// The new state.
        state: StateName,
        /// The state before.
        previous: StateName,
        /// The product.
        product_id: String,
        /// The attempt, or `None` outside one.
        attempt_id: Option<String>,
    },
    /// `mozmarket-purchase`.
    Purchase(PurchaseDetail),
    /// `mozmarket-failed` (`detail.code` is `error.code`).
    Failed { product_id: String, attempt_id: String, error: WidgetError },
    /// `mozmarket-cancelled`.
    Cancelled { product_id: String, attempt_id: String, reason: CancelReason, error: WidgetError },
    /// `mozmarket-warning`.
    Warning { product_id: String, attempt_id: Option<String>, error: WidgetError },
}

/// What the shell must do, in order.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// `window.open("", POPUP_NAME, features)` now, inside the activation handler; write the
    /// `popup_loading` text (text node and `document.title`) into it; then dispatch
    /// [`Action::PopupOpened`].
    OpenBlankPopup,
    /// `window.open(url, POPUP_NAME, features)` now (blocked sub-state); then dispatch
    /// [`Action::PopupOpened`].
    OpenPopup { url: String },
    /// Set the popup's location to the pay URL.
    NavigatePopup { url: String },
    /// `popup.focus()`.
    FocusPopup,
    /// Close the popup (if it is still open).
    ClosePopup,
    /// `POST buyUrl` with body `{}`, `Idempotency-Key: attempt_id` and the headers of §7.3.
    PostBuy { attempt_id: String },
    /// `navigator.mozPay([jwt])`; report with [`Action::MozPayResult`] (a synchronous throw too).
    CallMozPay { attempt_id: String, jwt: String },
    /// Attach the `message` listener to the host window.
    ListenForMessages,
    /// Remove the `message` listener.
    StopListening,
    /// Start (or restart) the timer of this kind.
    Schedule { attempt_id: String, timer: TimerKind, delay_ms: f64 },
    /// Cancel the timer of this kind.
    CancelTimer(TimerKind),
    /// `GET url` (the status URL; relative URLs are relative to the buy URL) with the headers of
    /// §7.3 and `cache: "no-store"`; report with [`Action::StatusAnswer`].
    GetStatus { attempt_id: String, url: String },
    /// `new EventSource(url)` (`withCredentials` when cross-origin); report `status` events with
    /// [`Action::StatusEvent`] and the first `error` with [`Action::StreamError`].
    OpenEventStream { attempt_id: String, url: String },
    /// Close the event stream.
    CloseEventStream,
    /// Store the receipt (§7.5 "Installing"); report with [`Action::ReceiptInstalled`].
    InstallReceipt { attempt_id: String, receipt: String },
    /// Remove a receipt this attempt added (`app.removeReceipt`, localStorage or memory).
    RemoveReceipt { receipt: String },
    /// Run the local check of §7.5 stage 1 (with `productId` as the expected `inapp_id`);
    /// report with [`Action::LocalVerification`].
    VerifyLocally { attempt_id: String, receipt: String },
    /// `POST <receipt.verify>` with the raw receipt as `text/plain`, no credentials; report with
    /// [`Action::StoreAnswer`].
    VerifyWithStore { attempt_id: String, receipt: String },
    /// Set a live region's text (the key formatted with [`format_message`]; for `failed`, the
    /// alert also carries `error_code` and the support link).
    Announce { politeness: Politeness, key: MessageKey },
    /// Move focus (§7.10).
    Focus(FocusTarget),
    /// Dispatch an event.
    Emit(Event),
    /// End of an attempt: close a popup the widget opened, remove the message listener, cancel
    /// every timer, abort requests in flight, close the event stream.
    EndAttempt,
}

// ---------------------------------------------------------------------------------------------
// States (§7.2)
// ---------------------------------------------------------------------------------------------

/// The state names of §7.2 (`handle.state`, `mozmarket-statechange`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StateName {
    /// `idle`
    Idle,
    /// `preparing`
    Preparing,
    /// `paying`
    Paying,
    /// `waiting`
    Waiting,
    /// `installing`
    Installing,
    /// `verifying`
    Verifying,
    /// `purchased`
    Purchased,
    /// `failed`
    Failed,
    /// `cancelled`
    Cancelled,
}

impl StateName {
    /// The name as JS sees it, e.g. `waiting`.
    pub fn as_str(self) -> &'static str {
        match self {
            StateName::Idle => "idle",
            StateName::Preparing => "preparing",
            StateName::Paying => "paying",
            StateName::Waiting => "waiting",
            StateName::Installing => "installing",
            StateName::Verifying => "verifying",
            StateName::Purchased => "purchased",
            StateName::Failed => "failed",
            StateName::Cancelled => "cancelled",
        }
    }
}

/// The popup while `preparing`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PopupStatus {
    /// [`Effect::OpenBlankPopup`] was issued; no answer yet.
    Opening,
    /// The blank popup is open.
    Open,
    /// The popup was blocked.
    Blocked,
    /// mozPay path: no popup.
    NotUsed,
}

/// An order created by the buy answer, with the accepted pay JWT.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Order {
    /// `orderId` (empty if the server omitted it).
    pub order_id: String,
    /// The pay JWT.
    pub jwt: String,
    /// `statusURL` (or `contribStatusURL`).
    pub status_url: String,
    /// `statusEventsURL`, when offered.
    pub status_events_url: Option<String>,
    /// The pay URL from the template (popup path).
    pub pay_url: String,
    /// Its origin: the only origin whose messages are accepted.
    pub pay_origin: String,
    /// `request.simulate` is present.
    pub simulated: bool,
    /// The localised product text from the JWT.
    pub product: ProductText,
}

/// The attempt data every busy state carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    /// The attempt id (also the `Idempotency-Key`).
    pub id: String,
    /// An `UnknownMessageOrigin` warning was emitted in this attempt (only the first foreign
    /// message warns, §5.4).
    pub warned_foreign_message: bool,
}

/// How `waiting` learns the status (§7.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mechanism {
    /// Server-sent events from `statusEventsURL`.
    EventStream,
    /// `GET statusURL` with backoff.
    Polling,
}

/// The progress of `waiting` (§7.4, §5.5).
#[derive(Debug, Clone, PartialEq)]
pub struct Progress {
    /// When `waiting` was entered.
    pub started_ms: f64,
    /// `started_ms + purchaseTimeoutMs`.
    pub deadline_ms: f64,
    /// Event stream or polling (the first stream error switches to polling).
    pub mechanism: Mechanism,
    /// A status request is in flight (at most one).
    pub in_flight: bool,
    /// `d_k`: the base of the next wait.
    pub next_delay_ms: f64,
    /// Status requests sent so far.
    pub requests: u32,
    /// The closed-window grace period ends at this time (§5.5); the message listener stays
    /// attached until then.
    pub grace_until_ms: Option<f64>,
    /// The last transient failure (`detail.lastError` of a timeout).
    pub last_error: Option<WidgetError>,
}

/// The `complete` status answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompleteStatus {
    /// The receipt (at most 64 KiB).
    pub receipt: String,
    /// `productId`, when the server sent it.
    pub product_id: Option<String>,
    /// `transactionID`, when the server sent it.
    pub transaction_id: Option<String>,
}

/// The stage of `verifying` (§7.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VerifyStage {
    /// Waiting for [`Action::LocalVerification`].
    Local,
    /// Waiting for [`Action::StoreAnswer`]; `test` from the local check.
    Store { test: bool },
}

/// The widget state (§7.2) and the data each state holds.
#[derive(Debug, Clone, PartialEq)]
pub enum State {
    /// Ready for a purchase.
    Idle,
    /// The buy request is running. `popup` is the blank window; `buy_retried` after the single
    /// retry of §7.3.
    Preparing {
        /// The attempt.
        attempt: Attempt,
        /// The blank popup opened in the click (or none).
        popup: PopupStatus,
        /// The buy request has been retried once.
        buy_retried: bool,
    },
    /// The pay page (or mozPay) is up. `blocked` is the blocked sub-state of §5.2 (popup path
    /// only); `mozpay` for the native path.
    Paying {
        /// The attempt.
        attempt: Attempt,
        /// The order the app server created.
        order: Order,
        /// The popup was blocked ("Open payment window" / "Cancel" shown).
        blocked: bool,
        /// Paying through `navigator.mozPay`.
        mozpay: bool,
    },
    /// Waiting for the app server's confirmation.
    Waiting {
        /// The attempt.
        attempt: Attempt,
        /// The order.
        order: Order,
        /// Polling or stream progress and the deadline.
        progress: Progress,
    },
    /// Storing the receipt.
    Installing {
        /// The attempt.
        attempt: Attempt,
        /// The order.
        order: Order,
        /// The server's `complete` answer, with the receipt.
        complete: CompleteStatus,
    },
    /// Verifying the stored receipt. `added`: this attempt stored it (so it is removed if
    /// verification fails).
    Verifying {
        /// The attempt.
        attempt: Attempt,
        /// The order.
        order: Order,
        /// The server's `complete` answer, with the receipt.
        complete: CompleteStatus,
        /// This attempt stored the receipt.
        added: bool,
        /// Local check or store check.
        stage: VerifyStage,
    },
    /// Done. `purchase` is `None` when the host said `owned` at mount.
    Purchased {
        /// The purchase, or `None` for `owned`.
        purchase: Option<PurchaseDetail>,
    },
    /// Failed: the error carries the code and the message key.
    Failed {
        /// The attempt that failed.
        attempt_id: String,
        /// Why.
        error: WidgetError,
    },
    /// Cancelled.
    Cancelled {
        /// The attempt that was cancelled.
        attempt_id: String,
        /// Why.
        reason: CancelReason,
        /// The matching error object.
        error: WidgetError,
    },
}

impl State {
    /// The state at mount: `purchased` when `owned`, otherwise `idle`.
    pub fn initial(config: &Config) -> State {
        if config.owned {
            State::Purchased { purchase: None }
        } else {
            State::Idle
        }
    }

    /// The state's name.
    pub fn name(&self) -> StateName {
        match self {
            State::Idle => StateName::Idle,
            State::Preparing { .. } => StateName::Preparing,
            State::Paying { .. } => StateName::Paying,
            State::Waiting { .. } => StateName::Waiting,
            State::Installing { .. } => StateName::Installing,
            State::Verifying { .. } => StateName::Verifying,
            State::Purchased { .. } => StateName::Purchased,
            State::Failed { .. } => StateName::Failed,
            State::Cancelled { .. } => StateName::Cancelled,
        }
    }

    /// The current attempt's id, if any.
    pub fn attempt_id(&self) -> Option<&str> {
        match self {
            State::Idle | State::Purchased { purchase: None } => None,
            State::Preparing { attempt, .. }
            | State::Paying { attempt, .. }
            | State::Waiting { attempt, .. }
            | State::Installing { attempt, .. }
            | State::Verifying { attempt, .. } => Some(&attempt.id),
            State::Purchased { purchase: Some(p) } => Some(&p.attempt_id),
            State::Failed { attempt_id, .. } | State::Cancelled { attempt_id, .. } => {
                Some(attempt_id)
            }
        }
    }

    /// The failure or cancellation error (`failed`, `cancelled`).
    pub fn error(&self) -> Option<&WidgetError> {
        match self {
            State::Failed { error, .. } | State::Cancelled { error, .. } => Some(error),
            _ => None,
        }
    }

    /// `failed`: the error code.
    pub fn failure_code(&self) -> Option<ErrorCode> {
        match self {
            State::Failed { error, .. } => Some(error.code),
            _ => None,
        }
    }

    /// `failed`: the buyer-facing message key.
    pub fn failure_message_key(&self) -> Option<MessageKey> {
        match self {
            State::Failed { error, .. } => error.message_key(),
            _ => None,
        }
    }

    /// The localized product text known in this state (from the JWT), if any.
    pub fn product(&self) -> Option<&ProductText> {
        match self {
            State::Paying { order, .. }
            | State::Waiting { order, .. }
            | State::Installing { order, .. }
            | State::Verifying { order, .. } => Some(&order.product),
            _ => None,
        }
    }

    fn attempt(&self) -> Option<&Attempt> {
        match self {
            State::Preparing { attempt, .. }
            | State::Paying { attempt, .. }
            | State::Waiting { attempt, .. }
            | State::Installing { attempt, .. }
            | State::Verifying { attempt, .. } => Some(attempt),
            _ => None,
        }
    }
}

/// The main button's text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ButtonText {
    /// The `label` option, as given.
    Label(String),
    /// A UI string (format it with the product name).
    Key(MessageKey),
}

/// What the UI renders for a state (§7.2, §7.10).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct View {
    /// The main button's text.
    pub button: ButtonText,
    /// `aria-disabled="true"` (never the `disabled` attribute).
    pub aria_disabled: bool,
    /// The container's `aria-busy`.
    pub busy: bool,
    /// The blocked sub-state's `open_payment_window` and `cancel` buttons.
    pub blocked_controls: bool,
    /// The `test_badge` next to `purchased`.
    pub test_badge: bool,
    /// The product name for `{name}`: the JWT's localized name, else `productName`.
    pub product_name: Option<String>,
}

/// §7.2: the rendering of a state.
pub fn view(state: &State, config: &Config) -> View {
    let idle_text = match &config.label {
        Some(l) => ButtonText::Label(l.clone()),
        None if config.product_name.is_some() => ButtonText::Key(MessageKey::BuyNamed),
        None => ButtonText::Key(MessageKey::Buy),
    };
    let product_name =
        state.product().and_then(|p| p.name.clone()).or_else(|| config.product_name.clone());
    let busy = |key| (ButtonText::Key(key), true, true);
    let (button, aria_disabled, busy) = match state {
        State::Idle | State::Cancelled { .. } => (idle_text, false, false),
        State::Preparing { .. } => busy(MessageKey::Preparing),
        State::Paying { .. } => busy(MessageKey::Paying),
        State::Waiting { .. } => busy(MessageKey::Waiting),
        State::Installing { .. } | State::Verifying { .. } => busy(MessageKey::Finishing),
        State::Purchased { .. } => (ButtonText::Key(MessageKey::Purchased), true, false),
        State::Failed { .. } => (ButtonText::Key(MessageKey::Retry), false, false),
    };
    View {
        button,
        aria_disabled,
        busy,
        blocked_controls: matches!(state, State::Paying { blocked: true, .. }),
        test_badge: matches!(state, State::Purchased { purchase: Some(p) } if p.test),
        product_name,
    }
}

// ---------------------------------------------------------------------------------------------
// Answer classification (§7.4, §7.5)
// ---------------------------------------------------------------------------------------------

/// A classified status answer (§7.4 table).
#[derive(Debug, Clone, PartialEq)]
pub enum StatusClass {
    /// `pending` or `incomplete`: keep waiting.
    Pending,
    /// `complete` with a receipt.
    Complete(CompleteStatus),
    /// Retry after the next wait (at least `min_wait_ms` for a 429 with `Retry-After`).
    Transient { error: WidgetError, min_wait_ms: Option<f64> },
    /// The attempt fails.
    Fatal(WidgetError),
}

fn parse_answer(body: &str) -> Option<Json> {
    json::parse_with(body.as_bytes(), ANSWER_LIMITS).ok()
}

/// A short string from a server or platform (clipped to 256 characters).
fn short(s: &str) -> Json {
    Json::Str(clip(s))
}

/// A non-2xx answer that is fatal: `BadApiResponse` with `httpStatus` and `errorCode`.
fn http_error(status: u16, body: &str) -> WidgetError {
    let mut e = WidgetError::new(ErrorCode::BadApiResponse)
        .with("httpStatus", Json::Num(f64::from(status)));
    if let Some(code) =
        parse_answer(body).as_ref().and_then(|j| j.get("error_code")).and_then(Json::as_str)
    {
        e = e.with("errorCode", short(code));
    }
    e
}

/// §7.4: classifies a status answer (a poll answer, or a stream event's data as a `200`).
pub fn classify_status(answer: &HttpAnswer) -> StatusClass {
    let (status, body, retry_after) = match answer {
        HttpAnswer::NetworkError => {
            return StatusClass::Transient {
                error: WidgetError::new(ErrorCode::ApiRequestError),
                min_wait_ms: None,
            };
        }
        HttpAnswer::Timeout => {
            return StatusClass::Transient {
                error: WidgetError::new(ErrorCode::ApiRequestTimeout),
                min_wait_ms: None,
            };
        }
        HttpAnswer::Response { status, body, retry_after_secs } => {
            (*status, body, *retry_after_secs)
        }
    };
    if status == 429 || (500..=599).contains(&status) {
        let error = WidgetError::new(ErrorCode::BadApiResponse)
            .with("httpStatus", Json::Num(f64::from(status)));
        let min_wait_ms = (status == 429)
            .then_some(retry_after)
            .flatten()
            .filter(|s| s.is_finite() && *s >= 0.0)
            .map(|s| (s * 1000.0).min(RETRY_AFTER_CAP_MS));
        return StatusClass::Transient { error, min_wait_ms };
    }
    if !(200..=299).contains(&status) {
        return StatusClass::Fatal(http_error(status, body));
    }
    let Some(j) = parse_answer(body) else {
        return StatusClass::Fatal(WidgetError::new(ErrorCode::BadJsonResponse));
    };
    let str_member = |name: &str| j.get(name).and_then(Json::as_str).map(str::to_owned);
    match j.get("status").and_then(Json::as_str) {
        Some("pending" | "incomplete") => StatusClass::Pending,
        Some("complete") => match j.get("receipt").and_then(Json::as_str) {
            Some(r) if r.len() <= MAX_RECEIPT_BYTES => StatusClass::Complete(CompleteStatus {
                receipt: r.to_owned(),
                product_id: str_member("productId"),
                transaction_id: str_member("transactionID"),
            }),
            _ => StatusClass::Fatal(
                WidgetError::new(ErrorCode::BadApiResponse).with_str("missing", "receipt"),
            ),
        },
        Some("failed") => {
            let server_error = str_member("error");
            let code = match server_error.as_deref() {
                Some("REFUNDED") => ErrorCode::PaymentRefunded,
                Some("REVERSED") => ErrorCode::PaymentReversed,
                Some("RECEIPT_UNAVAILABLE") => ErrorCode::ReceiptUnavailable,
                _ => ErrorCode::PaymentFailed,
            };
            let mut e = WidgetError::new(code);
            if code == ErrorCode::PaymentFailed {
                e = e.with("serverError", server_error.as_deref().map_or(Json::Null, short));
            }
            StatusClass::Fatal(e)
        }
        _ => StatusClass::Fatal(WidgetError::new(ErrorCode::InvalidTransactionState)),
    }
}

/// The outcome of the store check (§7.5 stage 2).
#[derive(Debug, Clone, PartialEq)]
pub enum StoreClass {
    /// `purchased` with this verdict, plus a warning when the service was unreachable.
    Purchased { verdict: StoreVerdict, warning: Option<WidgetError> },
    /// `failed` with this error.
    Failed(WidgetError),
}

/// §7.5 stage 2: classifies the verify service's answer.
pub fn classify_store_answer(answer: &HttpAnswer) -> StoreClass {
    let unreachable = |e: WidgetError| StoreClass::Purchased {
        verdict: StoreVerdict::Unreachable,
        warning: Some(e),
    };
    let (status, body) = match answer {
        HttpAnswer::NetworkError => {
            return unreachable(WidgetError::new(ErrorCode::ApiRequestError))
        }
        HttpAnswer::Timeout => return unreachable(WidgetError::new(ErrorCode::ApiRequestTimeout)),
        HttpAnswer::Response { status, body, .. } => (*status, body),
    };
    if status != 200 {
        return unreachable(
            WidgetError::new(ErrorCode::BadApiResponse)
                .with("httpStatus", Json::Num(f64::from(status))),
        );
    }
    let Some(j) = parse_answer(body) else {
        return unreachable(WidgetError::new(ErrorCode::BadJsonResponse));
    };
    match j.get("status").and_then(Json::as_str) {
        Some("ok") => StoreClass::Purchased { verdict: StoreVerdict::Ok, warning: None },
        Some("pending") => StoreClass::Purchased { verdict: StoreVerdict::Pending, warning: None },
        Some("refunded") => StoreClass::Failed(WidgetError::new(ErrorCode::PaymentRefunded)),
        Some("expired") => StoreClass::Failed(
            WidgetError::new(ErrorCode::InvalidReceipt)
                .with_str("check", "time")
                .with_str("storeStatus", "expired"),
        ),
        Some("invalid") => StoreClass::Failed(
            WidgetError::new(ErrorCode::InvalidReceipt)
                .with_str("check", "store")
                .with("storeReason", j.get("reason").cloned().unwrap_or(Json::Null)),
        ),
        _ => unreachable(
            WidgetError::new(ErrorCode::BadApiResponse).with("httpStatus", Json::Num(200.0)),
        ),
    }
}

// ---------------------------------------------------------------------------------------------
// Restore purchases (§7.8, §1.5)
// ---------------------------------------------------------------------------------------------

/// At most this many restore entries are processed (§7.8 step 2).
pub const MAX_RESTORE_ENTRIES: usize = 100;

/// One entry of `GET restoreUrl` (`{productId, orderId, transactionID, receipt}`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestoreEntry {
    /// `productId`: the expected `inapp_id`.
    pub product_id: String,
    /// `orderId`, when present.
    pub order_id: Option<String>,
    /// `transactionID`, when present.
    pub transaction_id: Option<String>,
    /// The receipt to install and verify.
    pub receipt: String,
}

/// The usable entries of a restore answer, in order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RestoreList {
    /// At most [`MAX_RESTORE_ENTRIES`] entries.
    pub entries: Vec<RestoreEntry>,
    /// More entries were listed than are processed: emit a warning.
    pub truncated: bool,
    /// Entries without a string `productId` and `receipt` (they cannot be installed or
    /// verified, and are left out).
    pub malformed: usize,
}

/// §7.8 step 1: classifies `GET restoreUrl` as in §7.4, every failure fatal. A body without a
/// `receipts` array is `BadApiResponse` with `detail.missing: "receipts"`.
pub fn classify_restore_list(answer: &HttpAnswer) -> Result<RestoreList, WidgetError> {
    let (status, body) = match answer {
        HttpAnswer::NetworkError => return Err(WidgetError::new(ErrorCode::ApiRequestError)),
        HttpAnswer::Timeout => return Err(WidgetError::new(ErrorCode::ApiRequestTimeout)),
        HttpAnswer::Response { status, body, .. } => (*status, body),
    };
    if !(200..=299).contains(&status) {
        return Err(http_error(status, body));
    }
    let j = parse_answer(body).ok_or_else(|| WidgetError::new(ErrorCode::BadJsonResponse))?;
    let items = j.get("receipts").and_then(Json::as_array).ok_or_else(|| {
        WidgetError::new(ErrorCode::BadApiResponse).with_str("missing", "receipts")
    })?;
    let mut list =
        RestoreList { truncated: items.len() > MAX_RESTORE_ENTRIES, ..Default::default() };
    for item in items.iter().take(MAX_RESTORE_ENTRIES) {
        let field = |f: &str| item.get(f).and_then(Json::as_str).map(str::to_owned);
        match (field("productId"), field("receipt")) {
            (Some(product_id), Some(receipt)) => list.entries.push(RestoreEntry {
                product_id,
                order_id: field("orderId"),
                transaction_id: field("transactionID"),
                receipt,
            }),
            _ => list.malformed += 1,
        }
    }
    Ok(list)
}

/// What to do with one restore entry after its checks (§7.8 step 4).
#[derive(Debug, Clone, PartialEq)]
pub enum RestoreOutcome {
    /// Restored (`ok`, `pending` or unreachable), with a warning when unreachable.
    Restored { store: StoreVerdict, warning: Option<WidgetError> },
    /// Skipped with this code; the receipt is removed from the local store.
    Skipped(ErrorCode),
    /// The store said `expired` and sent a fresh receipt: replace the stored receipt with it and
    /// check the new one once more (call again with `reverified = true`).
    Replace { receipt: String },
}

/// §7.8 step 4 for one entry: the local check's verdict, then (when it passed) the verify
/// service's answer. `reverified` is true for the second check after a [`RestoreOutcome::Replace`],
/// so a receipt is replaced at most once.
pub fn restore_outcome(
    local: LocalVerdict,
    allow_test_receipts: bool,
    store: &HttpAnswer,
    reverified: bool,
) -> RestoreOutcome {
    match local {
        LocalVerdict::Failed(check) => return RestoreOutcome::Skipped(check.error().code),
        LocalVerdict::Passed { test: true } if !allow_test_receipts => {
            return RestoreOutcome::Skipped(ErrorCode::TestReceiptNotAllowed)
        }
        LocalVerdict::Passed { .. } => {}
    }
    if !reverified {
        if let HttpAnswer::Response { status: 200, body, .. } = store {
            let j = parse_answer(body);
            let fresh = j
                .as_ref()
                .filter(|j| j.get("status").and_then(Json::as_str) == Some("expired"))
                .and_then(|j| j.get("receipt"))
                .and_then(Json::as_str);
            if let Some(receipt) = fresh {
                return RestoreOutcome::Replace { receipt: receipt.to_owned() };
            }
        }
    }
    match classify_store_answer(store) {
        StoreClass::Purchased { verdict, warning } => {
            RestoreOutcome::Restored { store: verdict, warning }
        }
        StoreClass::Failed(e) => RestoreOutcome::Skipped(e.code),
    }
}

/// §5.4: a provider error code is kept when it matches `^[A-Z0-9_]{1,64}$`; otherwise
/// [`MISSING_ERROR_CODE`].
pub fn provider_code(code: Option<&str>) -> String {
    match code {
        Some(c)
            if (1..=64).contains(&c.len())
                && c.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_') =>
        {
            c.to_owned()
        }
        _ => MISSING_ERROR_CODE.to_owned(),
    }
}

/// A buy answer accepted by §7.2 "The JWT is accepted when".
fn accept_buy(config: &Config, answer: &HttpAnswer) -> Result<Order, WidgetError> {
    let (status, body) = match answer {
        HttpAnswer::NetworkError => return Err(WidgetError::new(ErrorCode::ApiRequestError)),
        HttpAnswer::Timeout => return Err(WidgetError::new(ErrorCode::ApiRequestTimeout)),
        HttpAnswer::Response { status, body, .. } => (*status, body),
    };
    if !(200..=299).contains(&status) {
        return Err(http_error(status, body));
    }
    let j = parse_answer(body).ok_or_else(|| WidgetError::new(ErrorCode::BadJsonResponse))?;
    let member = |a: &str, b: &str| {
        j.get(a)
            .and_then(Json::as_str)
            .or_else(|| j.get(b).and_then(Json::as_str))
            .map(str::to_owned)
    };
    let missing = |m: &str| WidgetError::new(ErrorCode::BadApiResponse).with_str("missing", m);
    let jwt = member("jwt", "webpayJWT").ok_or_else(|| missing("jwt"))?;
    let status_url = member("statusURL", "contribStatusURL").ok_or_else(|| missing("statusURL"))?;
    let invalid = || WidgetError::new(ErrorCode::InvalidJwtData);
    let decoded = hs256::decode(&jwt, JwsAlg::Hs256, MAX_PAY_JWT_BYTES).map_err(|_| invalid())?;
    let claims = decoded.unverified_claims();
    let typ = claims.get("typ").and_then(Json::as_str).ok_or_else(invalid)?;
    let (pay_url, pay_origin) = config
        .providers
        .pay_url(typ, &jwt)
        .ok_or_else(|| WidgetError::new(ErrorCode::UnexpectedJwtType))?;
    let request = claims.get("request").filter(|r| r.is_object()).ok_or_else(invalid)?;
    if request.get("id").and_then(Json::as_str) != Some(config.product_id.as_str()) {
        return Err(invalid());
    }
    let simulated = request.get("simulate").is_some();
    if simulated && !config.allow_test_receipts {
        return Err(
            WidgetError::new(ErrorCode::TestReceiptNotAllowed).with_str("check", "simulate")
        );
    }
    Ok(Order {
        order_id: j.get("orderId").and_then(Json::as_str).unwrap_or_default().to_owned(),
        product: product_text(request, config.locale),
        jwt,
        status_url,
        status_events_url: j.get("statusEventsURL").and_then(Json::as_str).map(str::to_owned),
        pay_url,
        pay_origin,
        simulated,
    })
}

// ---------------------------------------------------------------------------------------------
// The reducer
// ---------------------------------------------------------------------------------------------

/// Effects being collected for one step, with the config for event payloads.
struct Fx<'a> {
    config: &'a Config,
    effects: Vec<Effect>,
}

impl Fx<'_> {
    fn push(&mut self, e: Effect) {
        self.effects.push(e);
    }

    fn emit(&mut self, e: Event) {
        self.effects.push(Effect::Emit(e));
    }

    fn change(&mut self, previous: StateName, state: StateName, attempt_id: Option<&str>) {
        if previous != state {
            self.emit(Event::StateChange {
                state,
                previous,
                product_id: self.config.product_id.clone(),
                attempt_id: attempt_id.map(str::to_owned),
            });
        }
    }

    fn announce(&mut self, key: MessageKey) {
        self.push(Effect::Announce { politeness: Politeness::Polite, key });
    }

    fn schedule(&mut self, attempt: &Attempt, timer: TimerKind, delay_ms: f64) {
        self.push(Effect::Schedule { attempt_id: attempt.id.clone(), timer, delay_ms });
    }

    fn warn(&mut self, attempt_id: Option<&str>, error: WidgetError) {
        self.emit(Event::Warning {
            product_id: self.config.product_id.clone(),
            attempt_id: attempt_id.map(str::to_owned),
            error,
        });
    }

    /// Any state → `failed`.
    fn fail(
        &mut self,
        from: StateName,
        attempt_id: &str,
        error: WidgetError,
        remove: Option<String>,
    ) -> State {
        self.push(Effect::EndAttempt);
        if let Some(receipt) = remove {
            self.push(Effect::RemoveReceipt { receipt });
        }
        self.change(from, StateName::Failed, Some(attempt_id));
        self.emit(Event::Failed {
            product_id: self.config.product_id.clone(),
            attempt_id: attempt_id.to_owned(),
            error: error.clone(),
        });
        if let Some(key) = error.message_key() {
            self.push(Effect::Announce { politeness: Politeness::Alert, key });
        }
        self.push(Effect::Focus(FocusTarget::MainButton));
        State::Failed { attempt_id: attempt_id.to_owned(), error }
    }

    /// Any state → `cancelled`.
    fn cancel(&mut self, from: StateName, attempt_id: &str, reason: CancelReason) -> State {
        let error = WidgetError::new(reason.code());
        self.push(Effect::EndAttempt);
        self.change(from, StateName::Cancelled, Some(attempt_id));
        self.emit(Event::Cancelled {
            product_id: self.config.product_id.clone(),
            attempt_id: attempt_id.to_owned(),
            reason,
            error: error.clone(),
        });
        self.announce(MessageKey::CancelledStatus);
        self.push(Effect::Focus(FocusTarget::MainButton));
        State::Cancelled { attempt_id: attempt_id.to_owned(), reason, error }
    }

    /// `paying` → `waiting`: after `{status:"ok"}`/mozPay success (`grace == false`: close the
    /// popup, stop window polling and the listener, use the stream when offered), or after the
    /// popup closed without a result (`grace == true`: poll at once, keep the listener until the
    /// grace period ends).
    fn enter_waiting(
        &mut self,
        attempt: Attempt,
        order: Order,
        now_ms: f64,
        grace: bool,
        mozpay: bool,
    ) -> State {
        let t = self.config.timing;
        if !mozpay {
            self.push(Effect::CancelTimer(TimerKind::WindowCheck));
            self.push(Effect::CancelTimer(TimerKind::UnloadedCheck));
            if !grace {
                self.push(Effect::ClosePopup);
                self.push(Effect::StopListening);
            }
        }
        let stream = !grace && self.config.use_event_stream && order.status_events_url.is_some();
        let mut progress = Progress {
            started_ms: now_ms,
            deadline_ms: now_ms + t.purchase_timeout_ms,
            mechanism: if stream { Mechanism::EventStream } else { Mechanism::Polling },
            in_flight: false,
            next_delay_ms: t.poll_initial_ms,
            requests: 0,
            grace_until_ms: grace.then_some(now_ms + t.closed_grace_ms),
            last_error: None,
        };
        match (&order.status_events_url, stream) {
            (Some(url), true) => self
                .push(Effect::OpenEventStream { attempt_id: attempt.id.clone(), url: url.clone() }),
            _ => self.get_status(&attempt, &order, &mut progress),
        }
        self.schedule(&attempt, TimerKind::PurchaseTimeout, t.purchase_timeout_ms);
        if grace {
            self.schedule(&attempt, TimerKind::GraceEnd, t.closed_grace_ms);
        }
        self.change(StateName::Paying, StateName::Waiting, Some(&attempt.id));
        self.announce(MessageKey::WaitingStatus);
        if !mozpay {
            self.push(Effect::Focus(FocusTarget::MainButton));
        }
        State::Waiting { attempt, order, progress }
    }

    fn get_status(&mut self, attempt: &Attempt, order: &Order, progress: &mut Progress) {
        progress.in_flight = true;
        progress.requests = progress.requests.saturating_add(1);
        self.push(Effect::GetStatus {
            attempt_id: attempt.id.clone(),
            url: order.status_url.clone(),
        });
    }
}

/// Advances the widget: from `state`, on `action` at time `now_ms` (milliseconds, the shell's
/// clock), to the next state and the effects to perform in order.
///
/// Never panics. Actions that do not apply to the state (stale answers, foreign attempts,
/// activations while busy, …) return the state unchanged and no effects, except where the spec
/// says otherwise (a foreign `message` warns once; an activation while paying focuses the popup).
pub fn reduce(config: &Config, state: State, action: Action, now_ms: f64) -> (State, Vec<Effect>) {
    let mut fx = Fx { config, effects: Vec::new() };
    let next = step(&mut fx, state, action, now_ms);
    (next, fx.effects)
}

/// Whether `id` is the state's current attempt.
fn is_current(state: &State, id: &str) -> bool {
    state.attempt().is_some_and(|a| a.id == id)
}

fn step(fx: &mut Fx<'_>, state: State, action: Action, now_ms: f64) -> State {
    // Answers for another attempt are stale.
    let stale = match &action {
        Action::BuyAnswer { attempt_id, .. }
        | Action::MozPayResult { attempt_id, .. }
        | Action::TimerFired { attempt_id, .. }
        | Action::StatusAnswer { attempt_id, .. }
        | Action::StatusEvent { attempt_id, .. }
        | Action::StreamError { attempt_id }
        | Action::ReceiptInstalled { attempt_id, .. }
        | Action::LocalVerification { attempt_id, .. }
        | Action::StoreAnswer { attempt_id, .. } => !is_current(&state, attempt_id),
        _ => false,
    };
    if stale {
        return state;
    }
    match action {
        Action::Activate { attempt_id } => activate(fx, state, attempt_id),
        Action::Destroy => {
            fx.push(Effect::EndAttempt);
            State::Idle
        }
        Action::Reset => match state {
            State::Failed { .. } | State::Cancelled { .. } | State::Purchased { .. } => {
                fx.change(state.name(), StateName::Idle, None);
                State::Idle
            }
            other => other,
        },
        Action::PopupOpened { blocked } => popup_opened(fx, state, blocked),
        Action::OpenPaymentWindow => match state {
            State::Paying { blocked: true, ref order, .. } => {
                fx.push(Effect::OpenPopup { url: order.pay_url.clone() });
                state
            }
            other => other,
        },
        Action::CancelBlocked => match state {
            State::Paying { blocked: true, attempt, .. } => {
                fx.cancel(StateName::Paying, &attempt.id, CancelReason::PopupBlocked)
            }
            other => other,
        },
        Action::BuyAnswer { answer, .. } => buy_answer(fx, state, &answer),
        Action::MozPayResult { outcome, .. } => match state {
            State::Paying { attempt, order, mozpay: true, .. } => {
                mozpay_result(fx, attempt, order, outcome, now_ms)
            }
            other => other,
        },
        Action::Message { origin, from_popup, data } => {
            message(fx, state, &origin, from_popup, data, now_ms)
        }
        Action::TimerFired { timer, popup_closed, .. } => {
            timer_fired(fx, state, timer, popup_closed, now_ms)
        }
        Action::StatusAnswer { answer, jitter_sample, .. } => match state {
            State::Waiting { attempt, order, mut progress }
                if progress.mechanism == Mechanism::Polling && progress.in_flight =>
            {
                progress.in_flight = false;
                status_class(
                    fx,
                    attempt,
                    order,
                    progress,
                    classify_status(&answer),
                    jitter_sample,
                    now_ms,
                )
            }
            other => other,
        },
        Action::StatusEvent { data, .. } => match state {
            State::Waiting { attempt, order, progress }
                if progress.mechanism == Mechanism::EventStream =>
            {
                let class = classify_status(&HttpAnswer::response(200, &data));
                status_class(fx, attempt, order, progress, class, 0.5, now_ms)
            }
            other => other,
        },
        Action::StreamError { .. } => match state {
            State::Waiting { attempt, order, mut progress }
                if progress.mechanism == Mechanism::EventStream =>
            {
                fx.push(Effect::CloseEventStream);
                progress.mechanism = Mechanism::Polling;
                fx.get_status(&attempt, &order, &mut progress);
                State::Waiting { attempt, order, progress }
            }
            other => other,
        },
        Action::ReceiptInstalled { added, warnings, .. } => match state {
            State::Installing { attempt, order, complete } => {
                for code in warnings {
                    let e = WidgetError::new(ErrorCode::AddReceiptError)
                        .with("platformCode", short(&code));
                    fx.warn(Some(&attempt.id), e);
                }
                fx.push(Effect::VerifyLocally {
                    attempt_id: attempt.id.clone(),
                    receipt: complete.receipt.clone(),
                });
                fx.change(StateName::Installing, StateName::Verifying, Some(&attempt.id));
                fx.announce(MessageKey::VerifyingStatus);
                State::Verifying { attempt, order, complete, added, stage: VerifyStage::Local }
            }
            other => other,
        },
        Action::LocalVerification { verdict, .. } => match state {
            State::Verifying { attempt, order, complete, added, stage: VerifyStage::Local } => {
                let verdict = match verdict {
                    // Defence in depth: a test receipt never passes without allowTestReceipts.
                    LocalVerdict::Passed { test: true } if !fx.config.allow_test_receipts => {
                        LocalVerdict::Failed(LocalCheck::TestReceipt)
                    }
                    v => v,
                };
                match verdict {
                    LocalVerdict::Passed { test } => {
                        fx.push(Effect::VerifyWithStore {
                            attempt_id: attempt.id.clone(),
                            receipt: complete.receipt.clone(),
                        });
                        State::Verifying {
                            attempt,
                            order,
                            complete,
                            added,
                            stage: VerifyStage::Store { test },
                        }
                    }
                    LocalVerdict::Failed(check) => {
                        let remove = added.then(|| complete.receipt.clone());
                        fx.fail(StateName::Verifying, &attempt.id, check.error(), remove)
                    }
                }
            }
            other => other,
        },
        Action::StoreAnswer { answer, .. } => match state {
            State::Verifying {
                attempt,
                order,
                complete,
                added,
                stage: VerifyStage::Store { test },
            } => match classify_store_answer(&answer) {
                StoreClass::Purchased { verdict, warning } => {
                    if let Some(w) = warning {
                        fx.warn(Some(&attempt.id), w);
                    }
                    purchased(fx, attempt, order, complete, test, verdict)
                }
                StoreClass::Failed(error) => {
                    let remove = added.then(|| complete.receipt.clone());
                    fx.fail(StateName::Verifying, &attempt.id, error, remove)
                }
            },
            other => other,
        },
    }
}

fn activate(fx: &mut Fx<'_>, state: State, attempt_id: String) -> State {
    match state {
        State::Idle | State::Failed { .. } | State::Cancelled { .. } => {
            let from = state.name();
            let attempt = Attempt { id: attempt_id, warned_foreign_message: false };
            match fx.config.pay_path {
                PayPath::Unavailable => fx.fail(
                    from,
                    &attempt.id,
                    WidgetError::new(ErrorCode::PayPlatformUnavailable),
                    None,
                ),
                path => {
                    let popup = if path == PayPath::Popup {
                        fx.push(Effect::OpenBlankPopup);
                        PopupStatus::Opening
                    } else {
                        PopupStatus::NotUsed
                    };
                    fx.push(Effect::PostBuy { attempt_id: attempt.id.clone() });
                    fx.change(from, StateName::Preparing, Some(&attempt.id));
                    fx.announce(MessageKey::PreparingStatus);
                    State::Preparing { attempt, popup, buy_retried: false }
                }
            }
        }
        // §5.2: while paying with an open popup, activation focuses it and does nothing else.
        State::Paying { blocked: false, mozpay: false, .. } => {
            fx.push(Effect::FocusPopup);
            state
        }
        // Busy states and purchased ignore activations (a double click starts one purchase).
        other => other,
    }
}

fn popup_opened(fx: &mut Fx<'_>, state: State, blocked: bool) -> State {
    match state {
        State::Preparing { attempt, popup: PopupStatus::Opening, buy_retried } => {
            State::Preparing {
                attempt,
                popup: if blocked { PopupStatus::Blocked } else { PopupStatus::Open },
                buy_retried,
            }
        }
        State::Paying { attempt, order, blocked: true, mozpay: false } => {
            if blocked {
                fx.push(Effect::Announce {
                    politeness: Politeness::Polite,
                    key: MessageKey::PopupBlockedStatus,
                });
                fx.push(Effect::Focus(FocusTarget::OpenPaymentWindow));
                State::Paying { attempt, order, blocked: true, mozpay: false }
            } else {
                fx.push(Effect::ListenForMessages);
                fx.schedule(&attempt, TimerKind::WindowCheck, fx.config.timing.window_poll_ms);
                fx.announce(MessageKey::PayingStatus);
                State::Paying { attempt, order, blocked: false, mozpay: false }
            }
        }
        other => other,
    }
}

fn buy_answer(fx: &mut Fx<'_>, state: State, answer: &HttpAnswer) -> State {
    let State::Preparing { attempt, popup, buy_retried } = state else {
        return state;
    };
    // §7.3: one immediate retry with the same key after a network error or a timeout.
    if matches!(answer, HttpAnswer::NetworkError | HttpAnswer::Timeout) && !buy_retried {
        fx.push(Effect::PostBuy { attempt_id: attempt.id.clone() });
        return State::Preparing { attempt, popup, buy_retried: true };
    }
    let order = match accept_buy(fx.config, answer) {
        Ok(o) => o,
        Err(e) => return fx.fail(StateName::Preparing, &attempt.id, e, None),
    };
    let from = StateName::Preparing;
    match popup {
        PopupStatus::NotUsed => {
            fx.push(Effect::CallMozPay { attempt_id: attempt.id.clone(), jwt: order.jwt.clone() });
            fx.change(from, StateName::Paying, Some(&attempt.id));
            fx.announce(MessageKey::PayingStatus);
            State::Paying { attempt, order, blocked: false, mozpay: true }
        }
        PopupStatus::Blocked => {
            fx.change(from, StateName::Paying, Some(&attempt.id));
            fx.push(Effect::Announce {
                politeness: Politeness::Polite,
                key: MessageKey::PopupBlockedStatus,
            });
            fx.push(Effect::Focus(FocusTarget::OpenPaymentWindow));
            State::Paying { attempt, order, blocked: true, mozpay: false }
        }
        PopupStatus::Open | PopupStatus::Opening => {
            fx.push(Effect::NavigatePopup { url: order.pay_url.clone() });
            fx.change(from, StateName::Paying, Some(&attempt.id));
            fx.push(Effect::ListenForMessages);
            fx.schedule(&attempt, TimerKind::WindowCheck, fx.config.timing.window_poll_ms);
            fx.announce(MessageKey::PayingStatus);
            State::Paying { attempt, order, blocked: false, mozpay: false }
        }
    }
}

fn mozpay_result(
    fx: &mut Fx<'_>,
    attempt: Attempt,
    order: Order,
    outcome: MozPayOutcome,
    now_ms: f64,
) -> State {
    match outcome {
        MozPayOutcome::Success => fx.enter_waiting(attempt, order, now_ms, false, true),
        MozPayOutcome::Error(name) => match name.as_str() {
            // The broken-webRT workaround: the server status decides.
            "USER_CANCELLED" if fx.config.on_broken_webrt => {
                fx.enter_waiting(attempt, order, now_ms, false, true)
            }
            "USER_CANCELLED" => {
                fx.cancel(StateName::Paying, &attempt.id, CancelReason::UserCancelled)
            }
            "DIALOG_CLOSED_BY_USER" => {
                fx.cancel(StateName::Paying, &attempt.id, CancelReason::DialogClosedByUser)
            }
            _ => {
                let e = WidgetError::new(ErrorCode::PayPlatformError)
                    .with("platformCode", short(&name));
                fx.fail(StateName::Paying, &attempt.id, e, None)
            }
        },
    }
}

/// A `message` event (§5.4 receiver rules).
fn message(
    fx: &mut Fx<'_>,
    state: State,
    origin: &str,
    from_popup: bool,
    data: MessageData,
    now_ms: f64,
) -> State {
    // The listener is attached during `paying` (popup open) and the closed-window grace.
    let (mut attempt, order, grace) = match state {
        State::Paying { attempt, order, blocked: false, mozpay: false } => (attempt, order, None),
        State::Waiting { attempt, order, progress } if progress.grace_until_ms.is_some() => {
            (attempt, order, Some(progress))
        }
        other => return other,
    };
    let rebuild = |attempt: Attempt, order: Order, grace: Option<Progress>| match grace {
        Some(progress) => State::Waiting { attempt, order, progress },
        None => State::Paying { attempt, order, blocked: false, mozpay: false },
    };
    if origin != order.pay_origin || !from_popup {
        if !attempt.warned_foreign_message {
            attempt.warned_foreign_message = true;
            let e = WidgetError::new(ErrorCode::UnknownMessageOrigin).with("origin", short(origin));
            fx.warn(Some(&attempt.id), e);
        }
        return rebuild(attempt, order, grace);
    }
    let MessageData::Status { status, error_code } = data else {
        return rebuild(attempt, order, grace);
    };
    let from = if grace.is_some() { StateName::Waiting } else { StateName::Paying };
    match status.as_str() {
        "ok" => match grace {
            None => fx.enter_waiting(attempt, order, now_ms, false, false),
            // Already waiting after the popup closed: the result ends the grace period.
            Some(mut progress) => {
                progress.grace_until_ms = None;
                fx.push(Effect::CancelTimer(TimerKind::GraceEnd));
                fx.push(Effect::StopListening);
                State::Waiting { attempt, order, progress }
            }
        },
        "failed" if error_code.as_deref() == Some("USER_CANCELLED") => {
            fx.cancel(from, &attempt.id, CancelReason::UserCancelled)
        }
        "failed" => {
            let code = provider_code(error_code.as_deref());
            let e =
                WidgetError::new(ErrorCode::PayWindowFailMessage).with_str("providerCode", &code);
            fx.fail(from, &attempt.id, e, None)
        }
        "unloaded" => {
            if grace.is_none() {
                fx.schedule(&attempt, TimerKind::UnloadedCheck, fx.config.timing.unloaded_grace_ms);
            }
            rebuild(attempt, order, grace)
        }
        _ => fx.fail(from, &attempt.id, WidgetError::new(ErrorCode::UnknownMessageStatus), None),
    }
}

fn timer_fired(
    fx: &mut Fx<'_>,
    state: State,
    timer: TimerKind,
    popup_closed: bool,
    now_ms: f64,
) -> State {
    match (state, timer) {
        (
            State::Paying { attempt, order, blocked: false, mozpay: false },
            TimerKind::WindowCheck | TimerKind::UnloadedCheck,
        ) => {
            if popup_closed {
                // §5.5: the buyer may have paid just before closing: grace period.
                fx.enter_waiting(attempt, order, now_ms, true, false)
            } else {
                if timer == TimerKind::WindowCheck {
                    fx.schedule(&attempt, TimerKind::WindowCheck, fx.config.timing.window_poll_ms);
                }
                State::Paying { attempt, order, blocked: false, mozpay: false }
            }
        }
        (State::Waiting { attempt, order, mut progress }, TimerKind::Poll) => {
            if progress.mechanism == Mechanism::Polling && !progress.in_flight {
                if now_ms >= progress.deadline_ms {
                    return timeout(fx, attempt, progress);
                }
                fx.get_status(&attempt, &order, &mut progress);
            }
            State::Waiting { attempt, order, progress }
        }
        (State::Waiting { attempt, order, progress }, TimerKind::GraceEnd) => {
            if progress.grace_until_ms.is_some() {
                fx.cancel(StateName::Waiting, &attempt.id, CancelReason::DialogClosedByUser)
            } else {
                State::Waiting { attempt, order, progress }
            }
        }
        (State::Waiting { attempt, progress, .. }, TimerKind::PurchaseTimeout) => {
            timeout(fx, attempt, progress)
        }
        (other, _) => other,
    }
}

/// §7.4 overall timeout.
fn timeout(fx: &mut Fx<'_>, attempt: Attempt, progress: Progress) -> State {
    let mut e = WidgetError::new(ErrorCode::TransactionTimeout);
    if let Some(last) = &progress.last_error {
        e = e.with("lastError", last.summary());
    }
    fx.fail(StateName::Waiting, &attempt.id, e, None)
}

/// Applies a classified status answer in `waiting`.
fn status_class(
    fx: &mut Fx<'_>,
    attempt: Attempt,
    order: Order,
    mut progress: Progress,
    class: StatusClass,
    jitter_sample: f64,
    now_ms: f64,
) -> State {
    let t = fx.config.timing;
    match class {
        StatusClass::Complete(complete) => {
            fx.push(Effect::CancelTimer(TimerKind::Poll));
            fx.push(Effect::CancelTimer(TimerKind::PurchaseTimeout));
            if progress.grace_until_ms.is_some() {
                fx.push(Effect::CancelTimer(TimerKind::GraceEnd));
                fx.push(Effect::StopListening);
            }
            if progress.mechanism == Mechanism::EventStream {
                fx.push(Effect::CloseEventStream);
            }
            fx.push(Effect::InstallReceipt {
                attempt_id: attempt.id.clone(),
                receipt: complete.receipt.clone(),
            });
            fx.change(StateName::Waiting, StateName::Installing, Some(&attempt.id));
            fx.announce(MessageKey::InstallingStatus);
            State::Installing { attempt, order, complete }
        }
        StatusClass::Fatal(e) => {
            // Inside the grace period a failed status is `PaymentFailed` as well (§5.5).
            fx.fail(StateName::Waiting, &attempt.id, e, None)
        }
        StatusClass::Pending | StatusClass::Transient { .. } => {
            if now_ms >= progress.deadline_ms {
                if let StatusClass::Transient { error, .. } = class {
                    progress.last_error = Some(error);
                }
                return timeout(fx, attempt, progress);
            }
            if progress.mechanism == Mechanism::EventStream {
                // The stream pushes the next change; nothing to schedule.
                return State::Waiting { attempt, order, progress };
            }
            let mut wait = t.jittered(progress.next_delay_ms, jitter_sample);
            if let StatusClass::Transient { error, min_wait_ms } = class {
                if let Some(m) = min_wait_ms {
                    wait = wait.max(m);
                }
                progress.last_error = Some(error);
            }
            progress.next_delay_ms = t.next_delay(progress.next_delay_ms);
            fx.schedule(&attempt, TimerKind::Poll, wait);
            State::Waiting { attempt, order, progress }
        }
    }
}

fn purchased(
    fx: &mut Fx<'_>,
    attempt: Attempt,
    order: Order,
    complete: CompleteStatus,
    test: bool,
    store: StoreVerdict,
) -> State {
    let detail = PurchaseDetail {
        product_id: fx.config.product_id.clone(),
        order_id: order.order_id,
        transaction_id: complete.transaction_id,
        receipt: complete.receipt,
        test,
        store,
        attempt_id: attempt.id.clone(),
    };
    fx.push(Effect::EndAttempt);
    fx.change(StateName::Verifying, StateName::Purchased, Some(&attempt.id));
    fx.emit(Event::Purchase(detail.clone()));
    fx.announce(MessageKey::PurchasedStatus);
    if fx.config.consumable {
        // §7.1 `consumable`: back to idle at once; the announcement stays.
        fx.change(StateName::Purchased, StateName::Idle, Some(&attempt.id));
        return State::Idle;
    }
    State::Purchased { purchase: Some(detail) }
}

#[cfg(all(test, feature = "native-url"))]
mod tests;
