//! VNPay code tables. Vietnamese texts follow the pay.html and
//! querydr&refund.html tables as copied in VNPay's samples and the npm `vnpay` maps, and the
//! merchant's IPN answer codes.

use serde::{Deserialize, Serialize};

use crate::gateways::GatewayError;

macro_rules! code_table {
    (
        $(#[$meta:meta])*
        $name:ident { $( $variant:ident = $code:literal, $vi:literal, $en:literal; )* }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub enum $name {
            $( $variant, )*
            /// A code not in the table, kept verbatim.
            Unknown(String),
        }

        impl $name {
            pub fn from_code(code: &str) -> Self {
                match code {
                    $( $code => Self::$variant, )*
                    other => Self::Unknown(other.to_owned()),
                }
            }

            pub fn code(&self) -> &str {
                match self {
                    $( Self::$variant => $code, )*
                    Self::Unknown(code) => code,
                }
            }

            pub fn meaning_vi(&self) -> &'static str {
                match self {
                    $( Self::$variant => $vi, )*
                    Self::Unknown(_) => "Mã không xác định",
                }
            }

            pub fn meaning_en(&self) -> &'static str {
                match self {
                    $( Self::$variant => $en, )*
                    Self::Unknown(_) => "Unknown code",
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.code())
            }
        }
    };
}

code_table! {
    /// `vnp_ResponseCode` of a payment (IPN / return URL).
    ResponseCode {
        Success = "00", "Giao dịch thành công", "Transaction successful";
        SuspectedFraud = "07",
            "Trừ tiền thành công. Giao dịch bị nghi ngờ (liên quan tới lừa đảo, giao dịch bất thường)",
            "Money debited; transaction suspected (fraud or unusual) - confirm or deny in merchant admin";
        NotRegisteredForInternetBanking = "09",
            "Thẻ/Tài khoản của khách hàng chưa đăng ký dịch vụ InternetBanking tại ngân hàng",
            "Card/account not registered for Internet Banking";
        AuthenticationFailedTooOften = "10",
            "Khách hàng xác thực thông tin thẻ/tài khoản không đúng quá 3 lần",
            "Card/account authentication failed more than 3 times";
        Expired = "11", "Đã hết hạn chờ thanh toán", "Payment timed out";
        CardLocked = "12", "Thẻ/Tài khoản của khách hàng bị khóa", "Card/account locked";
        WrongOtp = "13",
            "Quý khách nhập sai mật khẩu xác thực giao dịch (OTP)",
            "Wrong one-time password (OTP)";
        CancelledByCustomer = "24", "Khách hàng hủy giao dịch", "Customer cancelled";
        InsufficientBalance = "51",
            "Tài khoản của quý khách không đủ số dư để thực hiện giao dịch",
            "Insufficient balance";
        DailyLimitExceeded = "65",
            "Tài khoản của Quý khách đã vượt quá hạn mức giao dịch trong ngày",
            "Daily transaction limit exceeded";
        BankMaintenance = "75", "Ngân hàng thanh toán đang bảo trì", "Paying bank under maintenance";
        WrongPaymentPasswordTooOften = "79",
            "KH nhập sai mật khẩu thanh toán quá số lần quy định",
            "Wrong payment password entered too many times";
        OtherError = "99", "Các lỗi khác", "Other error";
    }
}

code_table! {
    /// `vnp_TransactionStatus` (IPN, return URL, querydr).
    TransactionStatus {
        Success = "00", "Giao dịch thành công", "Transaction successful";
        NotCompleted = "01", "Giao dịch chưa hoàn tất", "Transaction not completed";
        Error = "02", "Giao dịch bị lỗi", "Transaction error";
        Reversed = "04",
            "Giao dịch đảo (Khách hàng đã bị trừ tiền tại Ngân hàng nhưng GD chưa thành công ở VNPAY)",
            "Reversed: debited at the bank but not successful at VNPay";
        RefundProcessing = "05",
            "VNPAY đang xử lý giao dịch này (GD hoàn tiền)",
            "VNPay is processing this (refund) transaction";
        RefundSentToBank = "06",
            "VNPAY đã gửi yêu cầu hoàn tiền sang Ngân hàng (GD hoàn tiền)",
            "VNPay sent the refund request to the bank";
        SuspectedFraud = "07", "Giao dịch bị nghi ngờ gian lận", "Transaction suspected of fraud";
        RefundRejected = "09", "GD Hoàn trả bị từ chối", "Refund rejected";
    }
}

code_table! {
    /// `vnp_ResponseCode` of the `querydr` and `refund` API.
    ApiResponseCode {
        Success = "00", "Yêu cầu thành công", "Request successful";
        InvalidTmnCode = "02", "Mã định danh kết nối không hợp lệ (kiểm tra lại TmnCode)", "Invalid TmnCode";
        InvalidFormat = "03", "Dữ liệu gửi sang không đúng định dạng", "Request data in wrong format";
        TransactionNotFound = "91", "Không tìm thấy giao dịch yêu cầu", "Transaction not found";
        DuplicateRequest = "94",
            "Yêu cầu bị trùng lặp trong thời gian giới hạn của API",
            "Duplicate request within the API time limit (refund: already requested)";
        RefundRefused = "95",
            "Giao dịch này không thành công bên VNPAY. VNPAY từ chối xử lý yêu cầu",
            "Transaction not successful at VNPay; refund refused";
        InvalidChecksum = "97", "Checksum không hợp lệ", "Invalid checksum";
        OtherError = "99", "Các lỗi khác", "Other error";
    }
}

/// The JSON body the merchant answers an IPN with: `{"RspCode":"00","Message":"Confirm Success"}`.
/// `RspCode` says whether we *recorded* the notification, not whether the payment succeeded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IpnAnswer {
    #[serde(rename = "RspCode")]
    pub rsp_code: String,
    #[serde(rename = "Message")]
    pub message: String,
}

impl IpnAnswer {
    fn new(rsp_code: &str, message: &str) -> Self {
        Self {
            rsp_code: rsp_code.to_owned(),
            message: message.to_owned(),
        }
    }

    /// `00`: recorded — for paid **and** failed payments.
    pub fn confirm_success() -> Self {
        Self::new("00", "Confirm Success")
    }
    /// `01`: unknown `vnp_TxnRef`.
    pub fn order_not_found() -> Self {
        Self::new("01", "Order not found")
    }
    /// `02`: this notification was already processed.
    pub fn order_already_confirmed() -> Self {
        Self::new("02", "Order already confirmed")
    }
    /// `04`: `vnp_Amount / 100` differs from the attempt's amount.
    pub fn invalid_amount() -> Self {
        Self::new("04", "invalid amount")
    }
    /// `97`: bad checksum (or a `vnp_TmnCode` that is not ours).
    pub fn invalid_signature() -> Self {
        Self::new("97", "Invalid signature")
    }
    /// `99`: anything else (VNPay retries).
    pub fn unknown_error() -> Self {
        Self::new("99", "Unknow error")
    }

    /// The answer for a notification that failed verification or parsing.
    pub fn for_error(error: &GatewayError) -> Self {
        if error.is_signature() {
            Self::invalid_signature()
        } else {
            Self::unknown_error()
        }
    }

    /// VNPay's own "keep retrying" rule: anything but `00`/`02` is retried.
    pub fn is_final(&self) -> bool {
        matches!(self.rsp_code.as_str(), "00" | "02")
    }

    pub fn to_json(&self) -> String {
        format!(
            "{{\"RspCode\":{},\"Message\":{}}}",
            serde_json::Value::from(self.rsp_code.as_str()),
            serde_json::Value::from(self.message.as_str())
        )
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_keep_unknown_values() {
        for code in [
            "00", "07", "09", "10", "11", "12", "13", "24", "51", "65", "75", "79", "99",
        ] {
            let parsed = ResponseCode::from_code(code);
            assert!(!matches!(parsed, ResponseCode::Unknown(_)), "{code}");
            assert_eq!(parsed.code(), code);
        }
        assert_eq!(
            ResponseCode::from_code("24"),
            ResponseCode::CancelledByCustomer
        );
        assert_eq!(
            ResponseCode::from_code("24").meaning_vi(),
            "Khách hàng hủy giao dịch"
        );
        let odd = TransactionStatus::from_code("42");
        assert_eq!(odd, TransactionStatus::Unknown("42".to_owned()));
        assert_eq!(odd.code(), "42");
        assert_eq!(
            ApiResponseCode::from_code("91"),
            ApiResponseCode::TransactionNotFound
        );
    }
}
