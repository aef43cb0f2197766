// English and Russian texts; the language follows the browser and can be switched (saved locally).
const TEXTS = {
  en: {
    app: "PhotoChanger", dashboard: "Dashboard", jobs: "Jobs", settings: "Settings", stats: "Statistics",
    gallery: "Gallery", logout: "Log out", language: "Language", login: "Log in", username: "Username",
    password: "Password", wrong_login: "Wrong username or password.", throttled: "Too many attempts. Try again in {s} s.",
    ingest_url: "Ingest URL", copy: "Copy", copied: "Copied", show: "Show", hide: "Hide", ingest_password: "Ingest password",
    reason_slot_not_found: "no such slot", reason_slot_disabled: "slot switched off",
    reason_payload_too_large: "photo too large", reason_invalid_password: "wrong password",
    reason_rate_limited: "too many at once", reason_invalid_request: "malformed upload",
    reason_upload_timeout: "upload stalled", reason_unsupported_media_type: "not a JPEG/PNG/WebP photo",
    reason_content_rejected: "blocked by the provider's safety filter", reason_provider_error: "provider failed",
    reason_people_lost: "the edit lost the people",
    reason_provider_unavailable: "provider unavailable (key, quota or outage)",
    reason_provider_timeout: "no answer in time", reason_storage_unavailable: "disk or database unavailable",
    reason_server_busy: "server busy", reason_client_disconnected: "the booth went away",
    reason_internal_error: "internal error", reason_interrupted: "interrupted by a restart",
    reason_invalid_settings: "invalid slot settings", reason_original_expired: "original photo expired",
    reason_circuit_open: "route known to be failing",
    status_pending: "in progress", status_done: "done", status_failed: "failed", status_timeout: "timed out",
    status_interrupted: "interrupted", inactive_slots: "Inactive slots ({count})", rejected: "Refused requests",
    active: "Active", inactive: "Inactive", last_job: "Last job", success_today: "Success today", edit: "Edit",
    no_jobs: "No jobs yet", name: "Name", provider: "Provider", model: "Model", prompt: "Prompt",
    save: "Save", saved: "Saved", unsaved: "You have unsaved changes. Leave anyway?",
    conflict: "Someone else changed this slot. Reload to see their version.", fallbacks: "Fallback routes",
    add_fallback: "Add fallback", remove: "Remove", on_failure: "When every route fails",
    on_failure_error: "Answer with an error", on_failure_original: "Send back the original photo",
    upload_limit: "Upload limit (MB)", max_in_flight: "Photos in progress at once", templates: "Template images",
    drop_here: "Drop images here or choose files", role: "Role", test: "Test", test_photo: "Test photo",
    run_test: "Run test", running: "Working… {s} s", original: "Original", result: "Result", duration: "Duration",
    attempts: "Attempts", recent_results: "Recent results", open: "Open", download: "Download", rerun: "Run again",
    status: "Status", source: "Source", slot: "Slot", any: "Any", received: "Received", load_more: "Load more",
    details: "Details", client_fields: "Fields from the booth", headers: "Headers", last_requests: "Last booth requests",
    size: "Size", outcome: "Outcome", rotate: "Rotate", rotate_confirm: "Create a new ingest password? The booth must be updated.",
    deadline: "Answer deadline (s)", ttl: "Keep results (hours)", slot_limit: "Default per slot", provider_limit: "Per provider",
    concurrency: "Photos in progress", provider_keys: "Provider keys", configured: "configured", not_configured: "not set",
    new_key: "New key (leave empty to keep)", cleanup: "Delete expired media", cleanup_report: "Removed {files} files ({mb} MB) of {jobs} jobs.",
    window: "Window", total: "Total", done: "Done", failed: "Failed", timeouts: "Timeouts", success_rate: "Success rate",
    failures: "Failure reasons", jobs_over_time: "Jobs over time", p95_latency: "p95 latency", share_for: "Share for (minutes)",
    share: "Share", stop_sharing: "Stop sharing", shared_until: "Shared, {left} left", not_shared: "Not shared",
    public_link: "Public link", guest_gallery: "Photos of the event", gallery_closed: "The gallery is not shared right now.",
    your_photo: "Your photo", scan: "Scan to take the photo home", error: "Error", settings_hint: "Per-provider settings",
    look: "Colour look", overlay: "Frame overlay", background: "Replace background (keep people)", aspect_ratio: "Aspect ratio",
    image_size: "Image size", quality: "Quality", method: "Method", strength: "Strength", default: "default",
    no_results: "No results yet", camera: "Take a photo",
    gallery_title: "Title for guests (optional)", share_slots: "Only these slots (none ticked: all)",
    include_earlier: "Include photos taken before sharing", all_slots: "all slots", all_photos: "all photos",
    photos_since: "photos since {time}", gallery_qr: "Show this on a second screen: guests scan it to open the gallery",
    hidden: "Hidden from guests", hide_photo: "Hide", show_photo: "Show", delete_photo: "Delete",
    confirm_delete_photo: "Delete this photo's files for good? Its links stop working.", photo_hidden: "Hidden from guests",
    photo_shown: "Visible to guests again", photo_deleted: "Photo deleted",
    photo_unavailable: "This photo is not available.", photo_expired: "This photo has expired and was deleted.",
    routes_failing: "A provider route is failing", state_open: "open (guests skip it)", state_half_open: "being re-checked",
    route_failed_recent: "{failed} of {total} attempts failed in the last 15 min.", last_failure: "Last failure", slots: "Slots",
    slot_degraded: "{route} of {total} photos in 15 min came from a fallback route, {original} were the original photo.",
    warm_up: "Warm up", warm_up_hint: "Sends one real photo through every active slot's routes. Run it before the doors open.",
    warming_up: "Sending a test photo through every route…", route: "Route", fallback: "Fallback", primary: "Primary",
    hedging: "Hedging", hedging_auto: "Auto (only towards the free local provider)", hedging_on: "On (may bill two providers)",
    hedging_off: "Off", hedging_hint: "When the primary is slower than usual, start the next route beside it and answer with whichever finishes first.",
    hedge_cost: "Last 24 h: {n} hedged attempts cancelled, estimated {usd} USD.", hedges: "Hedges",
    people_check: "People check", people_auto: "Auto (on for AI providers when available)", people_on: "On", people_off: "Off",
    people_hint: "Counts the faces in each AI answer; an answer that lost people is retried or replaced by the next route. It cannot tell whether they are the same people.",
    people_unavailable: "Needs the local-ai extra on the server (pip install 'photochanger[local-ai]').",
    people_tolerance: "Allowed difference in the number of faces", faces: "Faces",
    prompt_fields: "You can use what the booth sends: {fields}. A default: {name|our guest}. From the URL: {query.team}.",
    sample_fields: "Sample booth fields", sample_fields_hint: "One per line, e.g. name=Anna — used for the prompt's placeholders.",
    alerts: "Alerts", alert_webhook_url: "Alert webhook URL", alert_webhook_hint: "Receives a JSON POST when a provider route starts failing and when it recovers.",
    skip: "Skip to content", source_ingest: "booth", source_ui_test: "test run", source_rerun: "rerun",
    outcome_success: "success", outcome_failed: "failed", outcome_timeout: "timed out", outcome_cancelled: "cancelled (hedge lost)",
    outcome_skipped: "skipped", http_code: "Code", cost: "Cost, USD", ms: "ms", s: "s", kb: "KB", refresh: "Refresh",
    period_1h: "last hour", period_24h: "last 24 h", period_7d: "last 7 days", from_ip: "from {ip}", job_link: "Job",
    no_requests: "No booth requests yet", retries: "Retries", fallbacks_used: "From fallbacks",
    maximum: "Maximum",
    v_ge: "must be at least {n}", v_le: "must be at most {n}", v_gt: "must be more than {n}", v_lt: "must be less than {n}",
    v_required: "is required", v_int: "must be a whole number", v_number: "must be a number", v_long: "is too long",
    v_short: "is too short", v_choice: "is not one of the allowed values", field_minutes: "Share for (minutes)",
    field_result_ttl_hours: "Keep results (hours)", field_sync_response_seconds: "Answer deadline (s)",
    field_slot_max_in_flight: "Default per slot", field_provider_max_in_flight: "Per provider", field_title: "Title",
    field_people_tolerance: "Allowed difference in the number of faces", field_max_in_flight: "Photos in progress at once",
    field_upload_limit_bytes: "Upload limit", field_display_name: "Name", field_prompt: "Prompt",
    public_url_loopback: "Links and QR codes point at {host}, which guests' phones cannot open. Set PHOTOCHANGER_PUBLIC_BASE_URL to the address guests reach (e.g. https://booth.example.com) and restart.",
    confirm_remove_template: "Remove this template image? Slots using it change at once.", rerun_done: "New result ready",
    fallback_n: "Fallback {n}", share_approval: "New photos wait for my approval", approval_on: "only approved photos",
    approve_photo: "Approve", withdraw_photo: "Withdraw", photo_approved: "Approved: guests see it", photo_withdrawn: "Withdrawn from guests", key_test_no_slot: "No active slot uses {provider}: make one (or a fallback) use it, then test.", outcome_invalid: "invalid configuration", aspect_differs: "This frame ({frame}) has other proportions than the booth's last photo ({photo}): the photo is cropped to the frame (or extended, by the slot's frame fitting).", key_missing: "No API key is configured for {provider}: every photo of this slot will fail. Add one in", gallery_pin: "PIN for guests (optional, 4–8 digits)",
    gallery_pin_hint: "Put it on the sign next to the QR code. It keeps passers-by out; it is not a password.",
    pin_is: "PIN {pin}", gallery_pin_placeholder: "6 digits, e.g. 482913", pin_locked: "PIN locked after too many wrong guesses: share again with a new PIN", pin_prompt: "Enter the PIN shown at the event", pin_wrong: "Wrong PIN — try again",
    reason_pin_required: "the gallery needs its PIN", role_template: "frame (overlay)", role_background: "background", role_style: "style sample", role_face: "face",
    setting_attempt_timeout_seconds: "Time limit per attempt (s)", setting_input_max_side: "Photo size sent (long side, px)",
    setting_frame_fit: "Fitting the frame", setting_size: "Output size", setting_input_fidelity: "Faithfulness to the photo",
    setting_output_format: "Output format", setting_scale: "Prompt weight", setting_seed: "Seed", setting_negative_prompt: "Negative prompt",
    setting_original_language: "Prompt language", setting_face_restore: "Restore faces",
    hint_attempt_timeout_seconds: "Empty: 1.5 × this route's recent p95. A later route answers when one attempt runs out.",
    hint_input_max_side: "Empty: the size the model works from (see docs/providers.md).",
    hint_frame_fit: "Crop: the photo is cut, centred, to the frame's proportions. Extend: white margins instead. Stretch: distorts the photo.",
    hint_aspect_ratio: "Allowed values depend on the model.", hint_image_size: "3-Pro and 3.1 only.",
    look_none: "none", look_bw: "black and white", look_sepia: "sepia", look_warm: "warm", look_vivid: "vivid",
    frame_fit_crop: "crop to the frame", frame_fit_extend: "extend with margins", frame_fit_stretch: "stretch (distorts)",
  },
  ru: {
    app: "PhotoChanger", dashboard: "Слоты", jobs: "Задания", settings: "Настройки", stats: "Статистика",
    gallery: "Галерея", logout: "Выйти", language: "Язык", login: "Войти", username: "Логин",
    password: "Пароль", wrong_login: "Неверный логин или пароль.", throttled: "Слишком много попыток. Повторите через {s} с.",
    ingest_url: "Адрес для фотобудки", copy: "Копировать", copied: "Скопировано", show: "Показать", hide: "Скрыть",
    reason_slot_not_found: "нет такого слота", reason_slot_disabled: "слот выключен",
    reason_payload_too_large: "фото слишком большое", reason_invalid_password: "неверный пароль",
    reason_rate_limited: "слишком много одновременно", reason_invalid_request: "ошибка в запросе",
    reason_upload_timeout: "загрузка зависла", reason_unsupported_media_type: "не фото JPEG/PNG/WebP",
    reason_content_rejected: "заблокировано фильтром провайдера", reason_provider_error: "ошибка провайдера",
    reason_people_lost: "на результате пропали люди",
    reason_provider_unavailable: "провайдер недоступен (ключ, квота или сбой)",
    reason_provider_timeout: "нет ответа вовремя", reason_storage_unavailable: "диск или база недоступны",
    reason_server_busy: "сервер перегружен", reason_client_disconnected: "фотобудка отключилась",
    reason_internal_error: "внутренняя ошибка", reason_interrupted: "прервано перезапуском",
    reason_invalid_settings: "неверные настройки слота", reason_original_expired: "исходное фото удалено по сроку",
    reason_circuit_open: "маршрут заведомо неисправен",
    status_pending: "в работе", status_done: "готово", status_failed: "ошибка", status_timeout: "истекло время",
    status_interrupted: "прервано", inactive_slots: "Выключенные слоты ({count})", rejected: "Отклонённые запросы",
    ingest_password: "Пароль фотобудки", active: "Включён", inactive: "Выключен", last_job: "Последнее задание",
    success_today: "Успешно сегодня", edit: "Изменить", no_jobs: "Заданий пока нет", name: "Название", provider: "Провайдер",
    model: "Модель", prompt: "Промпт", save: "Сохранить", saved: "Сохранено", unsaved: "Есть несохранённые изменения. Уйти?",
    conflict: "Слот изменил кто-то другой. Обновите страницу.", fallbacks: "Запасные маршруты",
    add_fallback: "Добавить запасной", remove: "Удалить", on_failure: "Если все маршруты не сработали",
    on_failure_error: "Ответить ошибкой", on_failure_original: "Вернуть исходное фото",
    upload_limit: "Лимит загрузки (МБ)", max_in_flight: "Одновременно в обработке", templates: "Шаблоны",
    drop_here: "Перетащите изображения сюда или выберите файлы", role: "Роль", test: "Проверка", test_photo: "Фото для проверки",
    run_test: "Запустить", running: "Обработка… {s} с", original: "Исходное", result: "Результат", duration: "Длительность",
    attempts: "Попытки", recent_results: "Последние результаты", open: "Открыть", download: "Скачать", rerun: "Повторить",
    status: "Статус", source: "Источник", slot: "Слот", any: "Все", received: "Получено", load_more: "Показать ещё",
    details: "Подробнее", client_fields: "Поля от фотобудки", headers: "Заголовки", last_requests: "Последние запросы фотобудки",
    size: "Размер", outcome: "Итог", rotate: "Сменить", rotate_confirm: "Создать новый пароль? Его нужно будет ввести в фотобудке.",
    deadline: "Срок ответа (с)", ttl: "Хранить результаты (ч)", slot_limit: "На слот по умолчанию", provider_limit: "На провайдера",
    concurrency: "Одновременная обработка", provider_keys: "Ключи провайдеров", configured: "задан", not_configured: "не задан",
    new_key: "Новый ключ (пусто — не менять)", cleanup: "Удалить устаревшие файлы", cleanup_report: "Удалено файлов: {files} ({mb} МБ), заданий: {jobs}.",
    window: "Период", total: "Всего", done: "Готово", failed: "Ошибки", timeouts: "Таймауты", success_rate: "Успешность",
    failures: "Причины ошибок", jobs_over_time: "Задания по времени", p95_latency: "p95 задержки", share_for: "Открыть на (минут)",
    share: "Открыть доступ", stop_sharing: "Закрыть доступ", shared_until: "Открыто, осталось {left}", not_shared: "Доступ закрыт",
    public_link: "Публичная ссылка", guest_gallery: "Фото с мероприятия", gallery_closed: "Галерея сейчас закрыта.",
    your_photo: "Ваше фото", scan: "Отсканируйте, чтобы забрать фото", error: "Ошибка", settings_hint: "Настройки провайдера",
    look: "Цветовой стиль", overlay: "Рамка поверх фото", background: "Заменить фон (люди остаются)", aspect_ratio: "Соотношение сторон",
    image_size: "Размер изображения", quality: "Качество", method: "Метод", strength: "Сила", default: "по умолчанию",
    no_results: "Результатов пока нет", camera: "Сделать фото",
    gallery_title: "Заголовок для гостей (необязательно)", share_slots: "Только эти слоты (ничего не отмечено — все)",
    include_earlier: "Показать и фото, снятые до открытия", all_slots: "все слоты", all_photos: "все фото",
    photos_since: "фото с {time}", gallery_qr: "Покажите на втором экране: гости сканируют и открывают галерею",
    hidden: "Скрыто от гостей", hide_photo: "Скрыть", show_photo: "Показать", delete_photo: "Удалить",
    confirm_delete_photo: "Удалить файлы этого фото насовсем? Ссылки на него перестанут работать.", photo_hidden: "Скрыто от гостей",
    photo_shown: "Снова видно гостям", photo_deleted: "Фото удалено",
    photo_unavailable: "Это фото недоступно.", photo_expired: "Срок хранения этого фото истёк, оно удалено.",
    routes_failing: "Маршрут провайдера не работает", state_open: "отключён (гости идут в обход)", state_half_open: "идёт проверка",
    route_failed_recent: "За 15 мин не удались {failed} из {total} попыток.", last_failure: "Последняя ошибка", slots: "Слоты",
    slot_degraded: "За 15 мин {route} из {total} фото сделаны запасным маршрутом, {original} — исходное фото.",
    warm_up: "Прогрев", warm_up_hint: "Отправляет одно настоящее фото через все маршруты включённых слотов. Запускайте перед открытием.",
    warming_up: "Отправляем тестовое фото через все маршруты…", route: "Маршрут", fallback: "Запасной", primary: "Основной",
    hedging: "Страховочный запуск", hedging_auto: "Авто (только к бесплатному local)", hedging_on: "Вкл. (возможна оплата двух провайдеров)",
    hedging_off: "Выкл.", hedging_hint: "Если основной маршрут медленнее обычного, запустить следующий параллельно и ответить тем, кто успеет первым.",
    hedge_cost: "За 24 ч: отменено страховочных попыток — {n}, оценка {usd} USD.", hedges: "Страховки",
    people_check: "Проверка людей", people_auto: "Авто (для ИИ-провайдеров, если доступно)", people_on: "Вкл.", people_off: "Выкл.",
    people_hint: "Считает лица в каждом ответе ИИ; если люди пропали, попытка повторяется или отвечает следующий маршрут. Сходство лиц не проверяется.",
    people_unavailable: "Нужно дополнение local-ai на сервере (pip install 'photochanger[local-ai]').",
    people_tolerance: "Допустимая разница в числе лиц", faces: "Лица",
    prompt_fields: "Можно подставлять поля фотобудки: {fields}. Значение по умолчанию: {name|гость}. Из адреса: {query.team}.",
    sample_fields: "Пример полей фотобудки", sample_fields_hint: "По одному в строке, например name=Анна — для подстановок в промпт.",
    alerts: "Оповещения", alert_webhook_url: "Адрес вебхука для оповещений", alert_webhook_hint: "Получает JSON POST, когда маршрут провайдера начинает сбоить и когда восстанавливается.",
    skip: "Перейти к содержимому", source_ingest: "фотобудка", source_ui_test: "проверка", source_rerun: "повтор",
    outcome_success: "успех", outcome_failed: "ошибка", outcome_timeout: "истекло время", outcome_cancelled: "отменена (проиграла страховке)",
    outcome_skipped: "пропущена", http_code: "Код", cost: "Стоимость, USD", ms: "мс", s: "с", kb: "КБ", refresh: "Обновить",
    period_1h: "за час", period_24h: "за 24 ч", period_7d: "за 7 дней", from_ip: "с {ip}", job_link: "Задание",
    no_requests: "Запросов от фотобудки пока нет", retries: "Повторы", fallbacks_used: "Запасным маршрутом",
    maximum: "Максимум",
    v_ge: "должно быть не меньше {n}", v_le: "должно быть не больше {n}", v_gt: "должно быть больше {n}", v_lt: "должно быть меньше {n}",
    v_required: "обязательно", v_int: "должно быть целым числом", v_number: "должно быть числом", v_long: "слишком длинное",
    v_short: "слишком короткое", v_choice: "не из допустимых значений", field_minutes: "Открыть на (минут)",
    field_result_ttl_hours: "Хранить результаты (ч)", field_sync_response_seconds: "Срок ответа (с)",
    field_slot_max_in_flight: "На слот по умолчанию", field_provider_max_in_flight: "На провайдера", field_title: "Заголовок",
    field_people_tolerance: "Допустимая разница в числе лиц", field_max_in_flight: "Одновременно в обработке",
    field_upload_limit_bytes: "Лимит загрузки", field_display_name: "Название", field_prompt: "Промпт",
    public_url_loopback: "Ссылки и QR-коды ведут на {host}, который не открыть с телефонов гостей. Задайте PHOTOCHANGER_PUBLIC_BASE_URL — адрес, доступный гостям (например https://booth.example.com), и перезапустите.",
    confirm_remove_template: "Удалить этот шаблон? Слоты, где он используется, изменятся сразу.", rerun_done: "Новый результат готов",
    fallback_n: "Запасной {n}", share_approval: "Новые фото ждут моего одобрения", approval_on: "только одобренные фото",
    approve_photo: "Одобрить", withdraw_photo: "Отозвать", photo_approved: "Одобрено: гости видят фото", photo_withdrawn: "Скрыто от гостей до одобрения", key_test_no_slot: "Ни один включённый слот не использует {provider}: настройте слот (или запасной маршрут), затем проверьте.", outcome_invalid: "неверная настройка", aspect_differs: "Пропорции рамки ({frame}) не совпадают с последним фото фотобудки ({photo}): фото обрезается под рамку (или дополняется полями — см. «Как вписать рамку»).", key_missing: "Для {provider} не задан API-ключ: все фото этого слота завершатся ошибкой. Добавьте его в разделе", gallery_pin: "PIN для гостей (необязательно, 4–8 цифр)",
    gallery_pin_hint: "Напишите его на табличке рядом с QR-кодом. Он защищает от случайных посетителей, это не пароль.",
    pin_is: "PIN {pin}", gallery_pin_placeholder: "6 цифр, например 482913", pin_locked: "PIN заблокирован после множества неверных попыток: откройте доступ заново с новым PIN", pin_prompt: "Введите PIN, указанный на мероприятии", pin_wrong: "Неверный PIN — попробуйте ещё раз",
    reason_pin_required: "для галереи нужен PIN", role_template: "рамка (поверх фото)", role_background: "фон", role_style: "образец стиля", role_face: "лицо",
    setting_attempt_timeout_seconds: "Лимит времени попытки (с)", setting_input_max_side: "Размер отправляемого фото (длинная сторона, пикс.)",
    setting_frame_fit: "Как вписать рамку", setting_size: "Размер результата", setting_input_fidelity: "Близость к исходному фото",
    setting_output_format: "Формат результата", setting_scale: "Вес промпта", setting_seed: "Зерно (seed)", setting_negative_prompt: "Негативный промпт",
    setting_original_language: "Язык промпта", setting_face_restore: "Восстановление лиц",
    hint_attempt_timeout_seconds: "Пусто: 1,5 × недавний p95 этого маршрута. Когда попытка исчерпала время, отвечает следующий маршрут.",
    hint_input_max_side: "Пусто: размер, с которым работает модель (см. docs/providers.md).",
    hint_frame_fit: "Обрезать: фото обрезается по центру под пропорции рамки. Дополнить: белые поля. Растянуть: искажает фото.",
    hint_aspect_ratio: "Допустимые значения зависят от модели.", hint_image_size: "Только 3-Pro и 3.1.",
    look_none: "без изменений", look_bw: "чёрно-белый", look_sepia: "сепия", look_warm: "тёплый", look_vivid: "яркий",
    frame_fit_crop: "обрезать под рамку", frame_fit_extend: "дополнить полями", frame_fit_stretch: "растянуть (искажает)",
  },
};

const KEY = "photochanger.lang";
export let lang = localStorage.getItem(KEY) || (navigator.language || "en").slice(0, 2);
if (!TEXTS[lang]) lang = "en";

export function t(key, values = {}) {
  const text = TEXTS[lang][key] ?? TEXTS.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => values[name] ?? "");
}

/** The text of ``key`` in the current language (English when only that exists), else ``fallback``. */
export function tOr(key, fallback) {
  return key in TEXTS[lang] || key in TEXTS.en ? t(key) : fallback;
}

const VALIDATION = [
  [/greater than or equal to (\S+)/, "v_ge"], [/less than or equal to (\S+)/, "v_le"], [/greater than (\S+)/, "v_gt"],
  [/less than (\S+)/, "v_lt"], [/Field required/, "v_required"], [/valid integer/, "v_int"], [/valid number/, "v_number"],
  [/at most \d+ character/, "v_long"], [/at least \d+ character/, "v_short"], [/Input should be '/, "v_choice"],
];

/** An API error as a sentence for people: a known failure_reason in words; each
 * "body.field: pydantic message" of a 422 as "Field label must be at least 1" (the server's own
 * words when no rule matches). */
export function humanError(status, body) {
  const detail = body?.detail || `HTTP ${status}`;
  if (body?.failure_reason !== "invalid_request" && body?.failure_reason !== "invalid_settings") {
    const words = body?.failure_reason ? reason(body.failure_reason) : "";
    return words && words !== body.failure_reason ? `${words[0].toUpperCase()}${words.slice(1)}.` : detail;
  }
  return detail.split("; ").map((problem) => {
    const match = problem.match(/^(?:body|query|path)\.([\w.]+): (.*)$/);
    if (!match) return problem;
    const name = match[1].split(".").pop();
    const label = tOr(`field_${name}`, name.replaceAll("_", " "));
    for (const [pattern, key] of VALIDATION) {
      const found = match[2].match(pattern);
      if (found) return `${label}: ${t(key, { n: found[1] ?? "" })}`;
    }
    return `${label}: ${match[2]}`;
  }).join("; ");
}

/** The host the page was reached on when it is a loopback address (links built from it will not
 * open on a guest's phone), else null. */
export function loopbackHost(url = location.href) {
  const host = new URL(url).hostname;
  return ["127.0.0.1", "localhost", "[::1]", "::1"].includes(host) || host.startsWith("127.") ? host : null;
}

/** A failure_reason as a sentence in the current language (the code itself when unknown). */
export function reason(code) {
  return code ? (TEXTS[lang][`reason_${code}`] ?? TEXTS.en[`reason_${code}`] ?? code) : "";
}

/** Milliseconds as "850 ms" / "2.4 s" (units and decimal mark of the current language). */
export function duration(ms) {
  if (ms === null || ms === undefined) return "—";
  const number = (value, digits) => value.toLocaleString(locale(), { maximumFractionDigits: digits });
  return ms < 1000 ? `${number(ms, 0)} ${t("ms")}` : `${number(ms / 1000, 1)} ${t("s")}`;
}

/** The BCP 47 locale for dates and numbers of the current language. */
export function locale() {
  return lang === "ru" ? "ru-RU" : "en-GB";
}

export function setLang(value) {
  lang = TEXTS[value] ? value : "en";
  localStorage.setItem(KEY, lang);
  document.documentElement.lang = lang;
}

export const LANGUAGES = { en: "English", ru: "Русский" };
document.documentElement.lang = lang;
