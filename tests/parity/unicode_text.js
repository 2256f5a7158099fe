const s = "naïve café ✓";
console.log(s);
console.log("bytes " + unescape(encodeURIComponent(s)).length + ", characters " + [...s].length);
const back = json.decode(json.encode({s})).s;
console.log("round trip " + String(back === s));
console.log(json.encode({emoji: "🎉", accents: "é"}));
return {s, n: [...s].length};
