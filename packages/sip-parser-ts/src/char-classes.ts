// Character classes of the SIP grammar (RFC 3261 §25.1): one lookup table,
// so a scanner tests a character with one array read, and the scanners of
// runs of one class that every parser here is built from.

/** token = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~") */
export const TOKEN = 1;
/** unreserved = alphanum / mark; mark = "-" / "_" / "." / "!" / "~" / "*" / "'" / "(" / ")" */
const UNRESERVED = 2;
/** user = 1*( unreserved / escaped / user-unreserved ); user-unreserved = "&" / "=" / "+" / "$" / "," / ";" / "?" / "/" */
const USER = 4;
/** password = *( unreserved / escaped / "&" / "=" / "+" / "$" / "," ) */
const PASSWORD = 8;
/** paramchar = param-unreserved / unreserved / escaped; param-unreserved = "[" / "]" / "/" / ":" / "&" / "+" / "$" */
const PARAM = 16;
/** hname / hvalue = *( hnv-unreserved / unreserved / escaped ); hnv-unreserved = "[" / "]" / "/" / "?" / ":" / "+" / "$" */
const HNV = 32;
/** word (Call-ID, §25.1): alphanum and - . ! % * _ + ` ' ~ ( ) < > : \ " / [ ] ? { } */
export const WORD = 64;
/** Characters of a hostname or IPv4address (alphanum "-" "."; "_" tolerated, seen in the wild). */
const HOST = 128;
/**
 * gen-value = token / host / quoted-string (§25.1): the unquoted form, so
 * token characters plus what a host adds (":" "[" "]" of IPv6; RFC 5118 §4.5
 * also accepts unbracketed IPv6 in received=). "/" and "@" are tolerated:
 * real stacks send them unquoted and neither can end a parameter.
 */
const GEN_VALUE = 256;

export const CHAR = new Uint16Array(128);

function mark(chars: string, flag: number): void {
  for (let i = 0; i < chars.length; i++) CHAR[chars.charCodeAt(i)]! |= flag;
}

const ALPHANUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
mark(ALPHANUM + "-.!%*_+`'~", TOKEN);
mark(ALPHANUM + "-_.!~*'()", UNRESERVED | USER | PASSWORD | PARAM | HNV);
mark("&=+$,;?/", USER);
mark("&=+$,", PASSWORD);
mark("[]/:&+$", PARAM);
mark("[]/?:+$", HNV);
mark(ALPHANUM + "-.!%*_+`'~()<>:\\\"/[]?{}", WORD);
mark(ALPHANUM + "-._", HOST);
mark(ALPHANUM + "-.!%*_+`'~:[]/@", GEN_VALUE);

export function isToken(s: string): boolean {
  const n = s.length;
  if (n === 0) return false;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128 || (CHAR[c]! & TOKEN) === 0) return false;
  }
  return true;
}

export function isHexDigit(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
}

/** SP or HTAB: the whitespace of LWS once lines are unfolded (§25.1 WSP). */
function isWsp(c: number): boolean {
  return c === 32 || c === 9;
}

/** Index of the first non-WSP character at or after `i` (but not past `end`). */
export function skipWsp(s: string, i: number, end: number): number {
  while (i < end && isWsp(s.charCodeAt(i))) i++;
  return i;
}

/** Index just past the last non-WSP character before `end` (but not before `start`). */
export function trimWspEnd(s: string, start: number, end: number): number {
  while (end > start && isWsp(s.charCodeAt(end - 1))) end--;
  return end;
}

// ---- runs ------------------------------------------------------------------
//
// scanRun(s, i, end, class) is the index of the first character at or after
// i that is not in the class (escapes included for the URI classes). Short
// runs are scanned in JavaScript; a run longer than a few characters
// continues with a sticky regular expression, which the engine scans several
// times faster than a charCodeAt loop. Every expression is one character
// class, or an alternation of a class and "%" HEX HEX, under a single star:
// each character is looked at once, whatever the input (no backtracking).

const TOKEN_RUN = /[A-Za-z0-9\-.!%*_+`'~]*/y;
const GEN_VALUE_RUN = /[A-Za-z0-9\-.!%*_+`'~:[\]\/@]*/y;
const HOST_RUN = /[A-Za-z0-9\-._]*/y;
const USER_RUN = /(?:[A-Za-z0-9\-_.!~*'()&=+$,;?\/]|%[0-9A-Fa-f]{2})*/y;
const PASSWORD_RUN = /(?:[A-Za-z0-9\-_.!~*'()&=+$,]|%[0-9A-Fa-f]{2})*/y;
const PARAM_RUN = /(?:[A-Za-z0-9\-_.!~*'()[\]\/:&+$]|%[0-9A-Fa-f]{2})*/y;
const HNV_RUN = /(?:[A-Za-z0-9\-_.!~*'()[\]\/?:+$]|%[0-9A-Fa-f]{2})*/y;
const WORD_RUN = /[A-Za-z0-9\-.!%*_+`'~()<>:\\"\/[\]?{}]*/y;

/** Classes whose runs may contain %HH escapes. */
const ESCAPED = USER | PASSWORD | PARAM | HNV;

function scanRun(s: string, i: number, end: number, flag: number, re: RegExp): number {
  const table = CHAR;
  const stop = i + 8 < end ? i + 8 : end;
  while (i < stop) {
    const c = s.charCodeAt(i);
    if (c < 128 && (table[c]! & flag) !== 0) {
      i++;
    } else if (c === 37 && (flag & ESCAPED) !== 0) {
      if (i + 2 >= end || !isHexDigit(s.charCodeAt(i + 1)) || !isHexDigit(s.charCodeAt(i + 2))) return i;
      i += 3;
    } else {
      return i;
    }
  }
  if (i >= end) return end;
  re.lastIndex = i;
  re.test(s);
  const j = re.lastIndex;
  return j < end ? j : end;
}

/** End of the token run at i (§25.1 token). */
export function scanToken(s: string, i: number, end: number): number {
  return scanRun(s, i, end, TOKEN, TOKEN_RUN);
}
/** End of the gen-value run at i (unquoted header parameter value). */
export function scanGenValue(s: string, i: number, end: number): number {
  return scanRun(s, i, end, GEN_VALUE, GEN_VALUE_RUN);
}
/** End of the run of hostname / IPv4 characters at i. */
export function scanHostChars(s: string, i: number, end: number): number {
  return scanRun(s, i, end, HOST, HOST_RUN);
}
/** End of the run of user-part characters and escapes at i. */
export function scanUser(s: string, i: number, end: number): number {
  return scanRun(s, i, end, USER, USER_RUN);
}
export function scanPassword(s: string, i: number, end: number): number {
  return scanRun(s, i, end, PASSWORD, PASSWORD_RUN);
}
/** End of the run of paramchar (uri-parameter name or value) at i. */
export function scanParamChars(s: string, i: number, end: number): number {
  return scanRun(s, i, end, PARAM, PARAM_RUN);
}
/** End of the run of hname / hvalue characters at i. */
export function scanHnv(s: string, i: number, end: number): number {
  return scanRun(s, i, end, HNV, HNV_RUN);
}
/** End of the run of word characters at i (Call-ID, §25.1). */
export function scanWord(s: string, i: number, end: number): number {
  return scanRun(s, i, end, WORD, WORD_RUN);
}
