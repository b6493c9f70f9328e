export const id = 36;
export const ids = [36];
export const modules = {

/***/ 5036:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   cacheRestore: () => (/* binding */ cacheRestore),
/* harmony export */   cacheSave: () => (/* binding */ cacheSave)
/* harmony export */ });
/* harmony import */ var _actions_cache__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(4305);

async function cacheRestore(r) {
    if (!_actions_cache__WEBPACK_IMPORTED_MODULE_0__/* .isFeatureAvailable */ .w3())
        return { available: false };
    const matchedKey = await _actions_cache__WEBPACK_IMPORTED_MODULE_0__/* .restoreCache */ .P3(r.paths, r.primary, r.restoreKeys, { lookupOnly: r.lookupOnly });
    return { available: true, matchedKey };
}
async function cacheSave(r) {
    if (!_actions_cache__WEBPACK_IMPORTED_MODULE_0__/* .isFeatureAvailable */ .w3())
        return { available: false };
    return { available: true, id: await _actions_cache__WEBPACK_IMPORTED_MODULE_0__/* .saveCache */ .Io(r.paths, r.key) };
}


/***/ })

};
